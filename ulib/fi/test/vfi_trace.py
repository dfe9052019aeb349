#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The life of each long read in two VFI_TRACE files (ulib/fi/vfi_trace.c).

  vfi_trace.py REQUESTER_FILE RESPONDER_FILE

The requester is the rank that reads (an MPI receiver under ofi_rxm's
rendezvous), the responder the one that answers. One line per read of
1 MiB or more, in ms, each side's intervals on its own clock (the guests'
clocks differ):
  requester: post -> request out (waiting for landing room), request ->
             notice in, notice -> landed, landed -> completed
  responder: request in -> first SEND, first -> last SEND posted, last
             SEND -> its completion, completion -> notice out
then the medians.
"""
import statistics
import sys


def load(path):
    with open(path) as f:
        return [(int(w[0]), w[1], w[2], w[3]) for w in
                (line.split() for line in f)]


def requester(events):
    reads, cur = [], {}
    for ns, ev, op, a in events:
        if ev == "rd_post":
            cur[op] = {"post": ns, "len": int(a)}
            continue
        d = cur.get(op)
        if d is None:
            continue
        if ev == "rreq_out":
            d["rreq"], d["cookie"] = ns, a
        elif ev == "notice_in":
            d["notice"] = ns
        elif ev == "rd_landed":
            d["landed"] = ns
        elif ev == "tx_done":
            d["done"] = ns
            reads.append(cur.pop(op))
    return reads


def responder(events):
    resp, live = {}, {}
    for ns, ev, op, a in events:
        if ev == "rreq_in":
            live[op] = a
            resp[a] = {"in": ns}
            continue
        if op not in live:
            continue
        d = resp[live[op]]
        if ev == "rma_send":
            d.setdefault("s0", ns)
            d["s1"] = ns
        elif ev == "send_cqe":
            d["cqe"] = ns
        elif ev == "notice_out":
            d["out"] = ns
            del live[op]
    return resp


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    reads = [d for d in requester(load(sys.argv[1]))
             if d["len"] >= 1 << 20 and "notice" in d and "rreq" in d]
    resp = responder(load(sys.argv[2]))
    steps = {k: [] for k in ("wait", "req", "land", "done",
                             "r_in", "r_post", "r_cqe", "r_out")}
    print("%8s %8s %8s %8s | %8s %8s %8s %8s" %
          ("wait", "req>note", "note>lnd", "lnd>done",
           "in>send", "sends", "send>cqe", "cqe>note"))
    for d in reads:
        r = resp.get(d["cookie"], {})
        row = [d["rreq"] - d["post"], d["notice"] - d["rreq"],
               d.get("landed", d["done"]) - d["notice"],
               d["done"] - d.get("landed", d["done"])]
        if all(k in r for k in ("s0", "s1", "cqe", "out")):
            row += [r["s0"] - r["in"], r["s1"] - r["s0"],
                    r["cqe"] - r["s1"], r["out"] - r["cqe"]]
        for k, v in zip(steps, row):
            steps[k].append(v)
        print(" ".join("%8.2f" % (v / 1e6) for v in row))
    print("medians: " + " ".join(
        "%s %.2f" % (k, statistics.median(v) / 1e6)
        for k, v in steps.items() if v))


if __name__ == "__main__":
    main()
