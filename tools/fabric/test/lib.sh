# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - what run.sh and span.sh share: TAP lines, a sub-test's TAP,
# waiting for files, the summary
#
# Contract: sourced; uses and updates the caller's $n (checks so far) and
# $fail (checks failed).

check() {	# check COND-EXIT-STATUS DESCRIPTION: the TAP line; status 0 if ok
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=$((fail + 1))
	fi
	[ "$1" -eq 0 ]
}

wait_for() {	# wait_for FILE...: up to 10 s (valgrind is slow)
	i=0
	for f in "$@"; do
		while [ ! -e "$f" ]; do
			i=$((i + 1))
			[ $i -gt 1000 ] && return 1
			sleep 0.01
		done
	done
}

sub_tap() {	# sub_tap RC FILE NAME: FILE's TAP indented, then one check for it
	sed 's/^/    /' "$2"
	check "$1" "$3: $(grep -c '^ok' "$2") passed, $(grep -c '^not ok' "$2") failed"
}

summary() {	# summary NAME [NOTE]: the TAP plan and a last line; status
	echo "1..$n"
	if [ $fail -eq 0 ]; then
		echo "# $1: all $n passed${2:+ ($2)}"
	else
		echo "# $1: $fail of $n FAILED"
	fi
	[ $fail -eq 0 ]
}
