#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# MPI between two 1-vCPU guests, one run (make bench): Open MPI over vmmc
# (pml cm, mtl ofi, provider vmmc;ofi_rxm) beside Open MPI over kernel TCP
# (pml ob1 with btl tcp, and pml cm with mtl ofi over libfabric's tcp
# provider) and raw VMMC (vmmc_bw -s 8,1048576: one SEND each way with a
# notification, and a stream of 1 MiB SENDs). mpi_bench measures each MPI
# transport the same way: 8 B ping-pong latency (half the median round
# trip), 1 MiB bandwidth (windows of 16 messages) and a 1 MiB allreduce
# (median); node 1's rank is started through selftests/mpi_rsh.py. The
# table ends with the issue's goals as ratios of this run.
#
#   tools/bench/mpi.sh            boot the two guests and print the table
#   tools/bench/mpi.sh node0|node1   (inside the guests)
#
# MPI_BENCH_ROWS="vmmc ..." measures only those rows (raw vmmc btl_tcp
# ofi_tcp; all by default); MPI_BENCH_ENV="VAR=VALUE ..." is set in both
# ranks (e.g. FI_OFI_RXM_USE_RNDV_WRITE=1, to try ofi_rxm's choices).
# MPI_BENCH_TIMEOUT (seconds, default 300) bounds each row: a row that
# takes longer is stopped and shows TIMEOUT, one that fails FAILED, and
# the other rows still run; before stopping a row, the stacks of the
# mpi_bench ranks on both nodes (gdb) go to stderr. The guests, node 1's
# barrier and its remote shell wait as long as all rows may take.
# MPI_BENCH_PROV="DIR ..." (provider builds, e.g. an old and a new one)
# adds MPI_BENCH_ROUNDS (default 3) rounds of the vmmc row over each DIR
# in turn, alternated in the same boot, one result line each after the
# table: on a shared host, compare those, not runs of different boots.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
b=$top/build
bw=$b/tools/bench/vmmc_bw
res=$b/run/mpi.$$
tmo=${MPI_BENCH_TIMEOUT:-300}
[[ $tmo =~ ^[1-9][0-9]*$ ]] || { echo "mpi.sh: MPI_BENCH_TIMEOUT: seconds" >&2; exit 2; }
prov=${MPI_BENCH_PROV:-}
rounds=${MPI_BENCH_ROUNDS:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "mpi.sh: MPI_BENCH_ROUNDS: a count" >&2; exit 2; }
nalt=0
for d in $prov; do
	[ -e "$d/libvmmc-fi.so" ] || { echo "mpi.sh: no $d/libvmmc-fi.so" >&2; exit 2; }
	nalt=$((nalt + rounds))
done
# the raw row (at most 120 s), three MPI rows and the alternated ones,
# with room to spare
limit=$((120 + (3 + nalt) * (tmo + 20) + 60))

case ${1:-host} in
host)
	mkdir -p "$res"
	tools/vm/vmrun -n 2 --timeout $((limit + 120)) \
		--node-cmd "0=MPI_BENCH_TIMEOUT=$tmo MPI_BENCH_ROWS='${MPI_BENCH_ROWS:-}' MPI_BENCH_ENV='${MPI_BENCH_ENV:-}' MPI_BENCH_PROV='$prov' MPI_BENCH_ROUNDS=$rounds $top/tools/bench/mpi.sh node0 $res" \
		--node-cmd "1=MPI_BENCH_TIMEOUT=$tmo MPI_BENCH_PROV='$prov' MPI_BENCH_ROUNDS=$rounds $top/tools/bench/mpi.sh node1 $res" -- true
	rc=$?
	cat "$res/table" 2>/dev/null || rc=1
	cat "$res/alt" 2>/dev/null
	rm -rf "$res"
	exit $rc
	;;
node1)
	insmod "$b/vmmc.ko" || exit 1
	export VMMC_BARRIER_LIMIT=$limit
	"$bw" server &
	srv=$!
	python3 selftests/mpi_rsh.py --serve &
	rsh=$!
	python3 selftests/barrier.py wait 7792
	kill $srv $rsh 2>/dev/null
	exit 0
	;;
node0) ;;
*)
	echo "usage: mpi.sh [node0 RESULTS | node1 RESULTS]" >&2
	exit 2
	;;
esac

res=$2
insmod "$b/vmmc.ko" || exit 1
# each transport: NAME, what mpirun adds
names=(vmmc btl_tcp ofi_tcp)
args=("--mca pml cm --mca mtl ofi --mca mtl_ofi_provider_include vmmc"
	"--mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include eth0"
	"--mca pml cm --mca mtl ofi --mca mtl_ofi_provider_include tcp")
rows=" ${MPI_BENCH_ROWS:-raw vmmc btl_tcp ofi_tcp} "
xenv=()
for e in ${MPI_BENCH_ENV:-}; do
	xenv+=(-x "$e")
done
export VMMC_BARRIER_LIMIT=$limit
rsh="python3 $top/selftests/mpi_rsh.py"
# shellcheck disable=SC2016 # run by bash -c, here and on node 1
stacks='command -v gdb >/dev/null || { echo "(no gdb)"; exit 0; };
for p in $(pgrep -x mpi_bench); do echo "--- $(hostname) mpi_bench $p";
timeout 60 gdb -batch -p $p -ex "thread apply all bt" 2>&1 |
grep "^#\|^Thread"; done'

# run LOG SECS CMD...: CMD's output into LOG, then "rc=N" (124: stopped
# after SECS, its ranks' stacks dumped first)
run() {
	local log=$1 secs=$2 pid t=0 rc
	shift 2
	"$@" > "$log" 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null && [ $t -lt "$secs" ]; do
		sleep 1
		t=$((t + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		{
			echo "mpi.sh: $* still running after $secs s: stacks"
			bash -c "$stacks"
			timeout 90 python3 "$top/selftests/mpi_rsh.py" \
				10.77.0.2 "${stacks//$'\n'/ }"
		} >&2
		kill $pid 2>/dev/null
		for t in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 $pid 2>/dev/null || break
			sleep 1
		done
		kill -9 $pid 2>/dev/null
		wait $pid
		echo "rc=124" >> "$log"
		return
	fi
	wait $pid
	rc=$?
	echo "rc=$rc" >> "$log"
}

: > "$res/raw"
if [[ $rows = *" raw "* ]]; then
	run "$res/raw" 120 "$bw" client -n 1 -a 10.77.0.2 -s 8,1048576
fi
# mpirow LOG PROVIDER_DIR OPTIONS: one MPI row
mpirow() {
	# shellcheck disable=SC2086 # $3 is a list of options
	run "$1" "$tmo" mpirun --allow-run-as-root -np 2 \
		--host 10.77.0.1,10.77.0.2 --mca plm_rsh_agent "$rsh" \
		--mca plm_rsh_no_tree_spawn 1 --mca oob_tcp_if_include eth0 \
		-x FI_PROVIDER_PATH="$2" -x FI_TCP_IFACE=eth0 \
		"${xenv[@]}" $3 --mca mtl_base_verbose 10 \
		"$b/tools/bench/mpi_bench"
}
for i in 0 1 2; do
	: > "$res/${names[i]}"
	[[ $rows = *" ${names[i]} "* ]] || continue
	mpirow "$res/${names[i]}" "$b/ulib/fi" "${args[i]}"
done
: > "$res/alt"
for ((r = 1; r <= rounds && nalt; r++)); do
	for d in $prov; do
		mpirow "$res/one" "$d" "${args[0]}"
		echo "round $r $d: $(grep -h '^lat8_us=\|^rc=' "$res/one" | tr '\n' ' ')" >> "$res/alt"
	done
done
python3 selftests/barrier.py notify 10.77.0.2 7792

python3 - "$res" > "$res/table" <<'PY'
import re
import sys

res = sys.argv[1]


def kv(name):
    text = open(f"{res}/{name}").read()
    m = re.search(r"^lat8_us=.*$", text, re.M)
    rc = re.findall(r"^rc=(\d+)", text, re.M)
    d = dict(p.split("=") for p in m.group(0).split()) if m else {}
    prov = sorted(set(re.findall(r"mtl:ofi:provider: (\S+)", text)))
    return {k: float(v) for k, v in d.items()}, rc and rc[-1], prov, text


def status(rc, text):
    """'' for a row that ended well, else FAILED or TIMEOUT (and its log)"""
    if rc == "0":
        return ""
    sys.stderr.write("".join(text.splitlines(True)[-15:]))
    return "TIMEOUT" if rc == "124" else f"FAILED rc={rc}"


rows = []
raw = open(f"{res}/raw").read()
lat = re.search(r"^\s+8\s+\S+\s+(\S+)", raw.split("bandwidth")[0], re.M)
bw = re.search(r"^\s+1048576\s+\S+\s+(\S+)", raw.split("bandwidth")[-1], re.M)
r = {"lat8_us": float(lat.group(1)) if lat else None,
     "bw_MBps": float(bw.group(1)) if bw else None}
rc = re.findall(r"^rc=(\d+)", raw, re.M)
rows.append(("raw VMMC (vmmc_bw remote)", r,
             status(rc[-1] if rc else None, raw) if raw else ""))
label = {"vmmc": "Open MPI, mtl ofi vmmc;ofi_rxm",
         "btl_tcp": "Open MPI, btl tcp (kernel TCP)",
         "ofi_tcp": "Open MPI, mtl ofi tcp (kernel TCP)"}
got = {}
for n in ("vmmc", "btl_tcp", "ofi_tcp"):
    d, rc, prov, text = kv(n)
    got[n] = d
    note = ("provider " + ",".join(prov)) if prov else ""
    if not text:
        continue
    if rc != "0" or not d:
        note += " " + (status(rc, text) or "FAILED (no result line)")
    if d.get("allreduce_bad"):
        note += " WRONG ALLREDUCE SUMS"
    rows.append((label[n], d, note.strip()))


def f(v, fmt):
    return fmt % v if v is not None else "-"


print("== MPI, node 0 <-> node 1: Open MPI over vmmc beside kernel TCP and raw VMMC")
print("%-36s %14s %12s %16s  %s" % ("", "8 B lat (us)", "1 MiB MB/s",
                                    "1 MiB allred ms", ""))
for name, d, note in rows:
    print("%-36s %14s %12s %16s  %s" % (name, f(d.get("lat8_us"), "%.1f"),
          f(d.get("bw_MBps"), "%.1f"), f(d.get("allreduce1m_ms"), "%.2f"), note))


def ratio(a, b):
    return a / b if a and b else None


v, t, o = got["vmmc"], got["btl_tcp"], got["ofi_tcp"]
tl = min([x for x in (t.get("lat8_us"), o.get("lat8_us")) if x] or [0]) or None
tb = max([x for x in (t.get("bw_MBps"), o.get("bw_MBps")) if x] or [0]) or None
print("goals (vmmc against the better TCP row and raw VMMC; this run):")
print("  8 B latency: %s of TCP's (goal <= 0.33), %s of raw VMMC's (goal <= 2)"
      % (f(ratio(v.get("lat8_us"), tl), "%.2f"),
         f(ratio(v.get("lat8_us"), r["lat8_us"]), "%.2f")))
print("  1 MiB bandwidth: %sx TCP's (goal >= 10), %s of raw VMMC's (goal >= 0.70)"
      % (f(ratio(v.get("bw_MBps"), tb), "%.1f"),
         f(ratio(v.get("bw_MBps"), r["bw_MBps"]), "%.2f")))
print("  1 MiB allreduce: %s of TCP's time (btl tcp)"
      % f(ratio(v.get("allreduce1m_ms"), t.get("allreduce1m_ms")), "%.2f"))
PY
rc=$?
[ $rc = 0 ] && { [[ $rows != *" vmmc "* ]] || grep -q '^rc=0' "$res/vmmc"; }
