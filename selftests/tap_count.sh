# SPDX-License-Identifier: GPL-2.0
# tap_count LOG RC NAME: count one test program's TAP results from its log
# into $tc_pass $tc_fail $tc_skip (source this file). A program fails
# when it exits non-zero without reporting a failure, prints no result,
# prints no plan, or reports more or fewer results than its plans add up
# to ("1..N", leading or trailing; a script that runs several programs
# has several). So a program that dies half-way fails even when every
# result it printed was "ok". Indented (nested) TAP is not counted.
tap_count() {
	local log=$1 rc=$2 name=$3 p f s plans planned n
	p=$(grep -cE '^ok [0-9]+ ' "$log")
	s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$log")
	f=$(grep -cE '^not ok [0-9]+ ' "$log")
	read -r plans planned < <(awk '/^1\.\.[0-9]+/ {
		sub(/^1\.\./, ""); n += $1 + 0; c++ } END { print c + 0, n + 0 }' "$log")
	p=$((p - s))
	n=$((p + f + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with $rc and reported no failure"
		f=$((f + 1))
	fi
	if [ "$n" -eq 0 ]; then
		echo "not ok - $name ran no test"
		f=$((f + 1))
	elif [ "$plans" -eq 0 ]; then
		echo "not ok - $name printed no TAP plan (1..N)"
		f=$((f + 1))
	elif [ "$n" -ne "$planned" ]; then
		echo "not ok - $name planned $planned results and reported $n"
		f=$((f + 1))
	fi
	tc_pass=$p tc_fail=$f tc_skip=$s
}
