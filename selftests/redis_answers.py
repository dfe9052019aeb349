#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""redis_answers.py: the redis-cli check that selftests/vmmc_apps.sh and
tools/bench/apps.sh both make.

  redis_answers.py cmds N          print N pairs "SET kI VALUE", "GET kI"
                                   (values of 1 to 300 random letters and
                                   digits, the same for every run)
  redis_answers.py check CMDS OUT N
                                   exit 0 if redis-cli's output OUT for
                                   the commands in CMDS answers each of
                                   the N SETs "OK" and each GET the value
                                   its SET wrote, in order; else 1
"""
import random
import sys

CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def cmds(n):
    random.seed(7)
    for i in range(n):
        v = "".join(random.choice(CHARS)
                    for _ in range(random.randint(1, 300)))
        print(f"SET k{i} {v}")
        print(f"GET k{i}")


def check(cmds_file, out_file, n):
    want = []
    last = None
    for c in open(cmds_file).read().split("\n"):
        if c.startswith("SET"):
            want.append("OK")
            last = c.split(" ", 2)[2]
        elif c.startswith("GET"):
            want.append(last)
    out = open(out_file).read().split("\n")
    return len(want) == 2 * n and out[:len(want)] == want


def main(argv):
    if len(argv) == 3 and argv[1] == "cmds":
        cmds(int(argv[2]))
        return 0
    if len(argv) == 5 and argv[1] == "check":
        return 0 if check(argv[2], argv[3], int(argv[4])) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
