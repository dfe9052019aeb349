#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Debian's mpi4py over Open MPI over the vmmc provider, two ranks (TAP
from rank 0): buffer ping-pong 1 B..1 MiB byte for byte, pickled objects,
and the collectives allreduce, bcast, gather, alltoall and barrier."""
from mpi4py import MPI

comm = MPI.COMM_WORLD
rank, size = comm.Get_rank(), comm.Get_size()
peer = 1 - rank
results = []


def report(bad, name):
    bad = comm.allreduce(int(bool(bad)), op=MPI.SUM)
    results.append((bad == 0, name))


def pattern(n, seed):
    return bytearray((seed + i * 13) & 0xff for i in range(n))


bad = 0
n = 1
while n <= 1 << 20:
    if rank == 0:
        comm.Send(pattern(n, 1), dest=1, tag=n & 0x7fff)
        buf = bytearray(n)
        comm.Recv(buf, source=1, tag=n & 0x7fff)
        bad += buf != pattern(n, 2)
    else:
        buf = bytearray(n)
        comm.Recv(buf, source=0, tag=n & 0x7fff)
        bad += buf != pattern(n, 1)
        comm.Send(pattern(n, 2), dest=0, tag=n & 0x7fff)
    n *= 16
report(bad, "buffer ping-pong 1 B..1 MiB byte for byte")

obj = {"rank": rank, "list": list(range(1000)), "text": "vmmc" * 100}
got = comm.sendrecv(obj, dest=peer, source=peer)
report(got != dict(obj, rank=peer), "pickled objects exchanged")

report(comm.allreduce(rank + 1, op=MPI.SUM) != 3, "allreduce")
v = comm.bcast({"k": [1, 2, 3]} if rank == 0 else None, root=0)
report(v != {"k": [1, 2, 3]}, "bcast")
g = comm.gather(rank * 10, root=0)
report(rank == 0 and g != [0, 10], "gather")
a = comm.alltoall([rank * 100 + i for i in range(size)])
report(a != [i * 100 + rank for i in range(size)], "alltoall")
comm.Barrier()
report(False, "barrier returned on both ranks")

if rank == 0:
    print("1..%d" % len(results))
    for i, (good, name) in enumerate(results, 1):
        print("%s %d %s" % ("ok" if good else "not ok", i, name))
