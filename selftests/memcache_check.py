#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A checking memcached client for vmmc_apps.sh (text protocol).

  memcache_check.py HOST PORT CONNS KEYS

CONNS threads, each on its own connection, SET KEYS values of 1 B to
500 KB (seeded random bytes, a key range per thread), then read them all
back with multi-key GETs and compare every byte. Prints one line:
"ok|BAD conns=N keys=K bytes=B domains=D..." and exits 0 only if every
answer was right.
"""
import random
import socket
import sys
import threading

SIZES = (1, 100, 1000, 10000, 100000, 500000)


from vmmc_fam import domain_of


def recv_line(s, buf):
    while b"\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            raise EOFError("connection closed")
        buf += b
    i = buf.index(b"\r\n")
    line = bytes(buf[:i])
    del buf[:i + 2]
    return line


def recv_exact(s, buf, n):
    while len(buf) < n:
        b = s.recv(max(65536, n - len(buf)))
        if not b:
            raise EOFError("connection closed")
        buf += b
    out = bytes(buf[:n])
    del buf[:n]
    return out


def worker(host, port, t, keys, res):
    rnd = random.Random(t)
    vals = {}
    s = socket.create_connection((host, port), 20)
    dom = domain_of(s)
    buf = bytearray()
    total = 0
    try:
        for i in range(keys):
            k = b"vmmc:%d:%d" % (t, i)
            v = rnd.randbytes(SIZES[i % len(SIZES)])
            vals[k] = v
            s.sendall(b"set %s %d 0 %d\r\n" % (k, i, len(v)) + v + b"\r\n")
            if recv_line(s, buf) != b"STORED":
                raise ValueError("set %s not STORED" % k)
            total += len(v)
        names = list(vals)
        for j in range(0, len(names), 8):
            batch = names[j:j + 8]
            s.sendall(b"get " + b" ".join(batch) + b"\r\n")
            for k in batch:
                h = recv_line(s, buf).split()
                if len(h) != 4 or h[0] != b"VALUE" or h[1] != k:
                    raise ValueError("answer %r for %s" % (h, k))
                v = recv_exact(s, buf, int(h[3]) + 2)
                if v[:-2] != vals[k] or v[-2:] != b"\r\n":
                    raise ValueError("value of %s differs" % k)
                if int(h[2]) != int(k.split(b":")[2]):
                    raise ValueError("flags of %s" % k)
                total += len(v) - 2
            if recv_line(s, buf) != b"END":
                raise ValueError("no END")
        res[t] = (True, dom, total, "")
    except (OSError, ValueError, EOFError) as e:
        res[t] = (False, dom, total, str(e))
    finally:
        s.close()


def main():
    host, port, conns, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    res = {}
    th = [threading.Thread(target=worker, args=(host, port, t, keys, res)) for t in range(conns)]
    for x in th:
        x.start()
    for x in th:
        x.join()
    good = len(res) == conns and all(r[0] for r in res.values())
    doms = ",".join("%#x" % r[1] for r in res.values())
    nbytes = sum(r[2] for r in res.values())
    errs = "; ".join(r[3] for r in res.values() if r[3])
    print("ok" if good else "BAD", "conns=%d keys=%d bytes=%d domains=%s" % (conns, keys, nbytes, doms), errs)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
