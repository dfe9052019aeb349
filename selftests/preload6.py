#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# The two sides of vmmc_preload6.sh, run under the LD_PRELOAD shim.
#   preload6.py srv DUAL_PORT V6ONLY_PORT   two AF_INET6 listeners on ::,
#       one dual stack, one IPV6_V6ONLY; prints each listener's option
#       checks, then serves each connection: reads to EOF, answers one
#       line "PEER SOCKNAME" (as accept() and getsockname() gave them),
#       then the bytes it read
#   preload6.py cli FAMILY ADDR PORT [v6only]   connects (FAMILY 4 or 6),
#       sends 64 KiB of random bytes, prints "ok PEER SOCKNAME LOCAL
#       PEERNAME" (the server's line, then its own getsockname and
#       getpeername addresses) if the echo is byte for byte the same,
#       or "err ERRNONAME" if connect fails
import errno
import os
import socket
import sys
import threading

V6ONLY = socket.IPV6_V6ONLY


def read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b


def serve(ls):
    while True:
        c, peer = ls.accept()
        data = read_all(c)
        c.sendall(f"{peer[0]} {c.getsockname()[0]}\n".encode() + data)
        c.close()


def srv(dual, v6only):
    for port, only in ((dual, 0), (v6only, 1)):
        ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        ls.setsockopt(socket.IPPROTO_IPV6, V6ONLY, only)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("::", port))
        ls.listen(8)
        got = ls.getsockopt(socket.IPPROTO_IPV6, V6ONLY)
        try:
            ls.setsockopt(socket.IPPROTO_IPV6, V6ONLY, 1 - only)
            late = "accepted"
        except OSError as e:
            late = errno.errorcode[e.errno]
        print(f"port {port}: {ls.getsockname()[0]} v6only {got}"
              f" (set {only}), set after bind: {late}", flush=True)
        threading.Thread(target=serve, args=(ls,), daemon=True).start()
    threading.Event().wait()


def cli(fam, addr, port, only):
    s = socket.socket(socket.AF_INET if fam == "4" else socket.AF_INET6,
                      socket.SOCK_STREAM)
    if only:
        s.setsockopt(socket.IPPROTO_IPV6, V6ONLY, 1)
    s.settimeout(30)
    try:
        s.connect((addr, port))
    except OSError as e:
        print("err", errno.errorcode.get(e.errno, e))
        return
    data = os.urandom(65536)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = read_all(s)
    line, _, echo = got.partition(b"\n")
    print("ok" if echo == data else f"bad echo {len(echo)} bytes",
          line.decode(), s.getsockname()[0], s.getpeername()[0])


if sys.argv[1] == "srv":
    srv(int(sys.argv[2]), int(sys.argv[3]))
else:
    cli(sys.argv[2], sys.argv[3], int(sys.argv[4]), len(sys.argv) > 5)
