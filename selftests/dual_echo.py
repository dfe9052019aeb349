#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Echo servers and a checking client for vmmc_dual.sh.

Every server first sends a 24-byte header, "PID PPID DOMAIN": the process
that accepted the connection and the family its socket answers (AF_VMMC
for a VMMC socket of the shim's, else SO_DOMAIN), then echoes every byte
until the client's EOF.

  dual_echo.py epoll ADDR PORT        event loop (epoll, non-blocking
                                      accept drained to EAGAIN)
  dual_echo.py prefork ADDR PORT N    listen, fork N workers that accept
                                      (blocking) and echo; the parent
                                      only waits; a worker exits once it
                                      echoed a connection whose whole
                                      stream was "EXIT"
  dual_echo.py forking ADDR PORT      fork per connection (inetd style):
                                      accept, fork, the child echoes, the
                                      parent closes its copy
  dual_echo.py execworker ADDR PORT   listen, then exec a worker that
                                      inherits the listener (systemd's
                                      LISTEN_FDS style) and serves it as
                                      the epoll server does
  dual_echo.py client HOST PORT BYTES SEED [raw] [COUNT]
                                      send BYTES of seeded random bytes,
                                      read them back, compare; prints
                                      "ok|BAD domain=D pid=P ppid=Q
                                      bytes=N/M sdomain=S" (S: the
                                      header's DOMAIN)
                                      (raw: a server without the header,
                                      such as inetd's echo); COUNT
                                      connections one after the other
                                      (seeds SEED, SEED + 1, ...), a line
                                      each
  dual_echo.py quit HOST PORT         a client whose stream is "EXIT": the
                                      pre-fork worker that serves it exits
"""
import os
import random
import selectors
import socket
import sys
import threading


from vmmc_fam import domain_of


def listener(addr, port):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    s.listen(64)
    return s


def header(c):
    """PID PPID DOMAIN: who accepted c, and the family c says it has"""
    return b"%-24s" % (b"%d %d %d" % (os.getpid(), os.getppid(), domain_of(c)))


def echo_blocking(c, may_quit=False):
    got = b""
    with c:
        c.sendall(header(c))
        while True:
            b = c.recv(65536)
            if not b:
                break
            got = (got + b)[:5]
            c.sendall(b)
    if may_quit and got == b"EXIT":
        os._exit(0)


def serve_epoll(addr, port, ls=None):
    ls = ls or listener(addr, port)
    ls.setblocking(False)
    sel = selectors.EpollSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    out, eof = {}, set()
    rw = selectors.EVENT_READ | selectors.EVENT_WRITE
    while True:
        for key, ev in sel.select():
            if key.data is None:
                while True:		# drain: a readable listener has one or more
                    try:
                        c, _ = ls.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    out[c] = bytearray(header(c))
                    sel.register(c, rw, 1)
                continue
            c = key.fileobj
            if ev & selectors.EVENT_READ and c not in eof:
                try:
                    b = c.recv(65536)
                except BlockingIOError:
                    b = None
                if b == b"":
                    eof.add(c)
                elif b:
                    out[c] += b
            if out[c]:
                try:
                    del out[c][:c.send(out[c])]
                except BlockingIOError:
                    pass
            if c in eof and not out[c]:
                sel.unregister(c)
                eof.discard(c)
                del out[c]
                c.close()
                continue
            want = (0 if c in eof else selectors.EVENT_READ) | \
                (selectors.EVENT_WRITE if out[c] else 0)
            if want != key.events:
                sel.modify(c, want, 1)


def serve_prefork(addr, port, n):
    ls = listener(addr, port)
    kids = []
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            while True:
                c, _ = ls.accept()
                threading.Thread(target=echo_blocking, args=(c, True), daemon=True).start()
        kids.append(pid)
    for pid in kids:
        os.waitpid(pid, 0)


def serve_forking(addr, port):
    ls = listener(addr, port)
    while True:
        c, _ = ls.accept()
        pid = os.fork()
        if pid == 0:
            ls.close()
            echo_blocking(c)
            os._exit(0)
        c.close()
        while True:		# reap the children that ended
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break


def client(host, port, nbytes, seed, raw=False, data=None):
    data = data or random.Random(seed).randbytes(nbytes)
    nbytes = len(data)
    s = socket.create_connection((host, port), 20)
    dom = domain_of(s)
    got = bytearray()

    def writer():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=writer)
    t.start()
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    t.join()
    s.close()
    if raw:
        got[:0] = b"%-24s" % b"- - -"
    hdr, body = bytes(got[:24]).split(), bytes(got[24:])
    good = body == data and len(hdr) == 3
    pid, ppid, sdom = [x.decode() for x in (hdr + [b"?"] * 3)[:3]]
    sdom = "%#x" % int(sdom) if sdom.isdigit() else sdom
    print("ok" if good else "BAD", "domain=%#x" % dom, "pid=%s ppid=%s" % (pid, ppid),
          "bytes=%d/%d sdomain=%s" % (len(body), nbytes, sdom))
    return 0 if good else 1


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "epoll":
        serve_epoll(a[1], int(a[2]))
    elif a[0] == "execworker":
        ls = listener(a[1], int(a[2]))
        os.set_inheritable(ls.fileno(), True)
        os.environ["LISTEN_FDS"] = "1"
        os.dup2(ls.fileno(), 3)
        os.execv(sys.executable, [sys.executable, sys.argv[0], "inherited"])
    elif a[0] == "inherited":		# the exec'd worker: its listener is fd 3
        serve_epoll(None, None, socket.socket(fileno=3))
    elif a[0] == "forking":
        serve_forking(a[1], int(a[2]))
    elif a[0] == "prefork":
        serve_prefork(a[1], int(a[2]), int(a[3]))
    elif a[0] == "quit":
        sys.exit(client(a[1], int(a[2]), 0, 0, data=b"EXIT"))
    else:
        raw = a[5:6] == ["raw"]
        count = int(a[6]) if len(a) > 6 else 1
        sys.exit(max(client(a[1], int(a[2]), int(a[3]), int(a[4]) + i, raw)
                     for i in range(count)))
