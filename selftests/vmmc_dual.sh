#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Both transports at once, between two nodes (selftests/dual_echo.py).
# Node 1 runs, under the shim, an epoll echo server on 0.0.0.0 and a
# pre-fork one (4 workers accepting on the listener their parent made) on
# ::, and, without the shim, an echo server on 0.0.0.0. Node 0:
# - shimmed and unshimmed clients of the shimmed epoll server at once:
#   the shimmed ones over VMMC (their socket is AF_VMMC), the others
#   over kernel TCP, every byte echoed back checked;
# - a shimmed client of the unshimmed server falls back to kernel TCP at
#   connect (VMMC_PRELOAD_DEBUG says so), bytes checked;
# - 12 shimmed clients of the pre-fork server: each served over VMMC by a
#   worker (the header names the process that accepted: not the parent),
#   more than one worker among them (the port's acceptor group: a client
#   picks one of the workers at random; all 12 to one of 4: p = 4^-11);
#   then one worker exits (a client tells it to) and 12 more are served
#   over VMMC by the 3 others, more than one of them (p = 3^-11);
# - 4 shimmed clients of a fork-per-connection (inetd style) server
#   under the shim: each connection, accepted over VMMC by the parent,
#   served by a child of its own (through the parent's relay), bytes
#   checked; the same with Debian's inetd (openbsd-inetd, its internal
#   echo service: one line of inetd.conf's standard syntax);
# - 2 shimmed clients of a worker exec'd with its parent's listener as
#   fd 3 (LISTEN_FDS style): over VMMC, bytes checked;
# - Debian's Apache (apache_conf of app_conf.sh: a copy of /etc/apache2
#   with mpm_prefork instead of mpm_event, the document root and the log
#   and run paths changed, and a log of each request's worker pid): its
#   root master listens on port 80
#   (stock ports.conf), its 5 workers, as www-data, accept; curl fetches
#   12 files of 1 B to 300 KB, a connection each, bodies compared byte
#   for byte; node 1 checks that they were served by more than one worker
#   (p = 5^-11 for one) and none by the master;
# then that node 0's kernel TCP made exactly the 3 connections that were
# meant to be kernel TCP, and the NIC's data counters moved by at least
# the bytes the VMMC clients echoed.
# Cost: about 50 s of the two-node run (python's start-up under TCG is
# most of it; the pre-fork server's two rounds and Apache about 12 s).
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/app_conf.sh"
b=$tap_top/build
py="python3 $(dirname "$0")/dual_echo.py"
pre="env LD_PRELOAD=$b/ulib/libvmmc-preload.so VMMC_HOSTS=10.77.0.1=0,10.77.0.2=1"
srv=10.77.0.2
done_port=7829
t=$(mktemp -d)
lim="timeout -k 5 60"

if [ "${VMMC_NODE:-0}" = 1 ]; then
	VMMC_PRELOAD_DEBUG=1 $pre $py epoll 0.0.0.0 7820 > "$t/epoll" 2>&1 &
	e=$!
	$py epoll 0.0.0.0 7821 > "$t/plain" 2>&1 &
	p=$!
	VMMC_PRELOAD_DEBUG=1 setsid $pre $py prefork :: 7822 4 > "$t/prefork" 2>&1 &
	f=$!
	VMMC_PRELOAD_DEBUG=1 $pre $py forking 0.0.0.0 7824 > "$t/forking" 2>&1 &
	i=$!
	echo 'echo stream tcp4 nowait root internal' > "$t/inetd.conf"
	VMMC_PRELOAD_DEBUG=1 $pre inetd -d -i "$t/inetd.conf" > "$t/inetd" 2>&1 &
	d=$!
	VMMC_PRELOAD_DEBUG=1 $pre $py execworker 0.0.0.0 7825 > "$t/execw" 2>&1 &
	x=$!
	mkdir -p "$t/www" && app_pages "$t/www" 1 1000 70000 300000 &&
		chmod -R a+rX "$t" && apache_conf "$t"
	(apache_run "$t" $pre > "$t/apache.out" 2>&1) &
	a=$!
	python3 -c 'import socket, sys; s = socket.create_server(("0.0.0.0", int(sys.argv[1]))); s.settimeout(200); c, _ = s.accept(); c.recv(8)' $done_port
	kill $e $p $i $d $x $a
	kill -- -$f 2>/dev/null
	wait
	nv=$(grep -c "accepted fd [0-9]* over VMMC" "$t/epoll")
	nk=$(grep -c "accepted fd [0-9]* over kernel TCP" "$t/epoll")
	check "node 1: the epoll server's debug log: $nv accepted over VMMC (>= 2), $nk over kernel TCP (2)" \
		test "$nv" -ge 2 -a "$nk" -eq 2
	grep -m3 'vmmc-preload: fd' "$t/prefork" | sed 's/^/# /'
	nr=$(grep -c 'relayed to the child$' "$t/forking")
	check "node 1: the fork-per-connection server relayed each of its 5 VMMC connections (4 and the readiness probe) to its child ($nr)" \
		test "$nr" -eq 5
	grep 'vmmc-preload: fd' "$t/forking" | grep -v 'relayed to the child' | head -5 | sed 's/^/# /'
	nr=$(grep -c 'relayed to the child$' "$t/inetd")
	check "node 1: inetd relayed each of its 4 VMMC echo connections (3 and the readiness probe) to the child it forked ($nr)" \
		test "$nr" -eq 4
	grep -v 'relayed to the child' "$t/inetd" | head -4 | sed 's/^/# /'
	check "node 1: the exec'd worker took its inherited listener as one on both transports" \
		grep -q 'fd 3: inherited listener' "$t/execw"
	grep 'vmmc-preload: fd' "$t/execw" | head -3 | sed 's/^/# /'
	served=$(grep -c '^[0-9]* 200 [0-9]* /f' "$t/pids.log")
	w=$(sed -n 's|^\([0-9]*\) 200 [0-9]* /f.*|\1|p' "$t/pids.log" | sort -u)
	errs=$(grep -cE ':(emerg|alert|crit|error)\]' "$t/error.log")
	check "node 1: Apache's workers served the 12 files ($served), $(echo $w | wc -w) of them (> 1), not its master ($a); its error.log has $errs errors" \
		test "$served" -eq 12 -a "$(echo $w | wc -w)" -ge 2 -a \
		     "$(grep -cx "$a" <<< "$w")" -eq 0 -a "$errs" -eq 0
	grep -E ':(emerg|alert|crit|error)\]' "$t/error.log" | head -3 | sed 's/^/# /'
	rm -rf "$t"
	tap_end
	exit
fi

trap 'echo done > /dev/tcp/$srv/$done_port 2>/dev/null; rm -rf "$t"' EXIT
# ready over VMMC (no fallback: a VMMC listener must answer), or over
# the kernel for the unshimmed server (one kernel connection)
ready() {
	local i
	for i in $(seq 1 100); do
		$1 python3 -c "import socket, sys; socket.create_connection(('$srv', int(sys.argv[1])), 5).close()" "$2" 2>/dev/null && return 0
		sleep 0.3
	done
	return 1
}
if ! { ready "$pre VMMC_PRELOAD_FALLBACK=0" 7820 && ready "" 7821 &&
       ready "$pre VMMC_PRELOAD_FALLBACK=0" 7822 &&
       ready "$pre VMMC_PRELOAD_FALLBACK=0" 7824 &&
       ready "$pre VMMC_PRELOAD_FALLBACK=0" 7 &&
       ready "$pre VMMC_PRELOAD_FALLBACK=0" 7825 &&
       ready "$pre VMMC_PRELOAD_FALLBACK=0" 80; }; then
	nok "servers up on node 1"
	tap_end
	exit
fi
ao0=$(tcp ActiveOpens) d0=$(nic_data)

mb=1048576
$lim $pre $py client $srv 7820 $mb 1 > "$t/v1" 2>&1 &
$lim $py client $srv 7820 $mb 2 > "$t/k1" 2>&1 &
$lim $pre $py client $srv 7820 $mb 3 > "$t/v2" 2>&1 &
$lim $py client $srv 7820 $mb 4 > "$t/k2" 2>&1 &
wait
v="$(cat "$t/v1" "$t/v2")" k="$(cat "$t/k1" "$t/k2")"
check "shimmed server on 0.0.0.0, two shimmed clients at once with two unshimmed: over VMMC, 1 MiB each echoed byte for byte ($(echo $v | tr '\n' ' '))" \
	test "$(grep -c '^ok domain=0x4d56 ' <<< "$v")" -eq 2
check "... the unshimmed ones over kernel TCP, byte for byte ($(echo $k | tr '\n' ' '))" \
	test "$(grep -c '^ok domain=0x2 ' <<< "$k")" -eq 2

VMMC_PRELOAD_DEBUG=1 $lim $pre $py client $srv 7821 $mb 5 > "$t/fb" 2>&1
fb=$(grep -v vmmc-preload "$t/fb")
check "a shimmed client of an unshimmed server falls back to kernel TCP at connect, bytes checked ($fb)" \
	test "${fb%% *}" = ok -a "$(grep -c 'connects over kernel TCP' "$t/fb")" -eq 1
grep 'vmmc-preload: fd' "$t/fb" | sed 's/^/# /'

# served by how many workers: the pids of the "ok" lines of file $1
workers() { sed -n 's/^ok domain=0x4d56 pid=\([0-9]*\) .*/\1/p' "$1" | sort -u; }
# connections per worker, in file $1
shares() { sed -n 's/^ok domain=0x4d56 pid=\([0-9]*\) .*/\1/p' "$1" | sort | uniq -c | awk '{ printf "%s%s", s, $1; s = " " }'; }
$lim $pre VMMC_PRELOAD_FALLBACK=0 $py client $srv 7822 65536 11 hdr 12 > "$t/pf" 2>&1
w=$(workers "$t/pf" | wc -l)
par=$(sed -n 's/.* ppid=\([0-9]*\) .*/\1/p' "$t/pf" | sort -u | wc -l)
check "pre-fork server (4 workers on their parent's listener on ::): 12 shimmed clients over VMMC, 64 KiB each echoed byte for byte, spread among $w workers (> 1: $(shares "$t/pf")), all children of one parent ($par)" \
	test "$(grep -c '^ok domain=0x4d56 ' "$t/pf")" -eq 12 -a "$par" -eq 1 -a "$w" -ge 2
grep -v '^ok' "$t/pf" | head -3 | sed 's/^/# /'
q=$($lim $pre VMMC_PRELOAD_FALLBACK=0 $py quit $srv 7822 | sed -n 's/^ok domain=0x4d56 pid=\([0-9]*\) .*/\1/p')
sleep 3		# its endpoint closes; another worker takes the port's directory (1 s)
$lim $pre VMMC_PRELOAD_FALLBACK=0 $py client $srv 7822 65536 51 hdr 12 > "$t/pf2" 2>&1
w=$(workers "$t/pf2" | wc -l)
check "... worker ${q:-?} exited (told to); 12 more shimmed clients over VMMC, byte for byte, spread among $w (> 1: $(shares "$t/pf2")) of the 3 others" \
	test -n "$q" -a "$(grep -c '^ok domain=0x4d56 ' "$t/pf2")" -eq 12 -a "$w" -ge 2 -a \
	     "$(workers "$t/pf2" | grep -cx "${q:-x}")" -eq 0
grep -v '^ok' "$t/pf2" | head -3 | sed 's/^/# /'

$lim $pre $py client $srv 7824 262144 21 hdr 4 > "$t/fk" 2>&1
w=$(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' "$t/fk" | sort -u | wc -l)
check "fork-per-connection server: 4 shimmed clients over VMMC, 256 KiB each echoed byte for byte, each by a child of its own ($w children), whose relayed socket answers SO_DOMAIN AF_INET" \
	test "$(grep -c '^ok domain=0x4d56 .* sdomain=0x2$' "$t/fk")" -eq 4 -a "$w" -eq 4
grep -v '^ok' "$t/fk" | head -3 | sed 's/^/# /'
$lim $pre $py client $srv 7 262144 31 raw 3 > "$t/in" 2>&1
check "inetd (openbsd-inetd, internal echo, a child per connection): 3 shimmed clients over VMMC, 256 KiB each echoed byte for byte" \
	test "$(grep -c '^ok domain=0x4d56 ' "$t/in")" -eq 3
grep -v '^ok' "$t/in" | head -3 | sed 's/^/# /'
$lim $pre $py client $srv 7825 65536 41 hdr 2 > "$t/ex" 2>&1
check "a worker exec'd with its parent's listener (fd 3, LISTEN_FDS style): 2 shimmed clients over VMMC, 64 KiB each echoed byte for byte" \
	test "$(grep -c '^ok domain=0x4d56 ' "$t/ex")" -eq 2
grep -v '^ok' "$t/ex" | head -3 | sed 's/^/# /'

# Apache: 12 files, a connection each (Connection: close), over VMMC only
mkdir -p "$t/want" "$t/got" && app_pages "$t/want" 1 1000 70000 300000
urls=() outs=()
for i in 1 2 3; do
	for sz in 1 1000 70000 300000; do
		urls+=("http://$srv/f$sz") outs+=(-o "$t/got/f$sz.$i")
	done
done
$lim $pre VMMC_PRELOAD_FALLBACK=0 curl -sS --fail -H 'Connection: close' \
	"${urls[@]}" "${outs[@]}" > "$t/curl" 2>&1
rc=$?
bad=0
for i in 1 2 3; do
	for sz in 1 1000 70000 300000; do
		cmp -s "$t/want/f$sz" "$t/got/f$sz.$i" || bad=$((bad + 1))
	done
done
check "Apache (Debian's apache2.conf, mpm_prefork, port 80) to curl: 12 files of 1 B to 300 KB, a connection each: exit $rc, $bad bodies differ" \
	test "$rc" -eq 0 -a "$bad" -eq 0
sed 's/^/# /' "$t/curl" | head -3

ao=$(($(tcp ActiveOpens) - ao0)) d=$(($(nic_data) - d0))
check "node 0's kernel TCP made exactly the 3 connections meant for it: $ao active opens" \
	test "$ao" -eq 3
check "the NIC's data bytes moved $d (>= $((4 * mb + 14 * 262144 + 52 * 65536 + 3 * 371001)), what the VMMC clients sent and got back and Apache's bodies)" \
	test "$d" -ge $((4 * mb + 14 * 262144 + 52 * 65536 + 3 * 371001))
tap_end
