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
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
b=$top/build
bw=$b/tools/bench/vmmc_bw
res=$b/run/mpi.$$

case ${1:-host} in
host)
	mkdir -p "$res"
	tools/vm/vmrun -n 2 --timeout 1200 \
		--node-cmd "0=MPI_BENCH_ROWS='${MPI_BENCH_ROWS:-}' MPI_BENCH_ENV='${MPI_BENCH_ENV:-}' $top/tools/bench/mpi.sh node0 $res" \
		--node-cmd "1=$top/tools/bench/mpi.sh node1 $res" -- true
	rc=$?
	cat "$res/table" 2>/dev/null || rc=1
	rm -rf "$res"
	exit $rc
	;;
node1)
	insmod "$b/vmmc.ko" || exit 1
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
rawrc=0
: > "$res/raw"
if [[ $rows = *" raw "* ]]; then
	"$bw" client -n 1 -a 10.77.0.2 -s 8,1048576 > "$res/raw" 2>&1
	rawrc=$?
fi
for i in 0 1 2; do
	: > "$res/${names[i]}"
	[[ $rows = *" ${names[i]} "* ]] || continue
	# shellcheck disable=SC2086 # args[i] is a list of options
	timeout -k 5 600 mpirun --allow-run-as-root -np 2 \
		--host 10.77.0.1,10.77.0.2 \
		--mca plm_rsh_agent "python3 $top/selftests/mpi_rsh.py" \
		--mca plm_rsh_no_tree_spawn 1 --mca oob_tcp_if_include eth0 \
		-x FI_PROVIDER_PATH="$b/ulib/fi" -x FI_TCP_IFACE=eth0 \
		"${xenv[@]}" ${args[i]} --mca mtl_base_verbose 10 \
		"$b/tools/bench/mpi_bench" > "$res/${names[i]}" 2>&1
	echo "rc=$?" >> "$res/${names[i]}"
done
python3 selftests/barrier.py notify 10.77.0.2 7792

python3 - "$res" "$rawrc" > "$res/table" <<'PY'
import re
import sys

res, rawrc = sys.argv[1], int(sys.argv[2])


def kv(name):
    text = open(f"{res}/{name}").read()
    m = re.search(r"^lat8_us=.*$", text, re.M)
    rc = re.search(r"^rc=(\d+)", text, re.M)
    d = dict(p.split("=") for p in m.group(0).split()) if m else {}
    prov = sorted(set(re.findall(r"mtl:ofi:provider: (\S+)", text)))
    return {k: float(v) for k, v in d.items()}, rc and rc.group(1), prov, text


rows = []
raw = open(f"{res}/raw").read()
lat = re.search(r"^\s+8\s+\S+\s+(\S+)", raw.split("bandwidth")[0], re.M)
bw = re.search(r"^\s+1048576\s+\S+\s+(\S+)", raw.split("bandwidth")[-1], re.M)
r = {"lat8_us": float(lat.group(1)) if lat else None,
     "bw_MBps": float(bw.group(1)) if bw else None}
rows.append(("raw VMMC (vmmc_bw remote)", r, "" if not rawrc else f"exit {rawrc}"))
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
        note += f" FAILED rc={rc}"
        sys.stderr.write("".join(text.splitlines(True)[-15:]))
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
