#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A remote shell for Open MPI's rsh launcher between the test guests.

  mpi_rsh.py --serve [LOG]      on each remote node: run what comes
                                (LOG: a file that gets each command)
  mpi_rsh.py HOST CMD...        the agent (plm_rsh_agent): run CMD on HOST

TEST ONLY: it runs any command for anyone who can reach PORT, with no
authentication; the guests of tools/vm/vmrun are alone on their link.
The agent sends the command line (joined by spaces, as rsh does; run by
bash -c), then relays the remote's stdout and stderr and exits with its
status. When the agent goes (mpirun kills it), the command's process group
is killed. The server gives up after VMMC_BARRIER_LIMIT seconds (default
600, as selftests/barrier.py) without a connection.
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

PORT = 7790
LIMIT = int(os.environ.get("VMMC_BARRIER_LIMIT", "600"))


def frame(sock, kind, data, lock):
    with lock:
        sock.sendall(kind + struct.pack("!I", len(data)) + data)


def serve_one(conn, log):
    lock = threading.Lock()
    f = conn.makefile("rb")
    cmd = f.readline().decode().rstrip("\n")
    if log:
        with open(log, "a") as lf:
            lf.write(cmd + "\n")
    p = subprocess.Popen(["bash", "-c", cmd], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)

    def pump(stream, kind):
        for chunk in iter(lambda: stream.read1(65536), b""):
            try:
                frame(conn, kind, chunk, lock)
            except OSError:
                break

    def watch():	# the agent went away: end the command
        try:
            conn.recv(1)
        except OSError:
            pass
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)

    ts = [threading.Thread(target=pump, args=(p.stdout, b"o")),
          threading.Thread(target=pump, args=(p.stderr, b"e"))]
    for t in ts:
        t.start()
    threading.Thread(target=watch, daemon=True).start()
    for t in ts:
        t.join()
    rc = p.wait()
    try:
        frame(conn, b"x", struct.pack("!i", rc), lock)
        conn.close()
    except OSError:
        pass


def serve(port, log):
    srv = socket.create_server(("0.0.0.0", port), reuse_port=True)
    srv.settimeout(LIMIT)
    while True:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            return
        threading.Thread(target=serve_one, args=(conn, log),
                         daemon=True).start()


def agent(host, cmd):
    # the remote node may still be finishing its previous test: wait for
    # its server to listen (60 s at most)
    deadline = time.monotonic() + 60
    while True:
        try:
            s = socket.create_connection((host, PORT), 30)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    s.settimeout(None)
    s.sendall((" ".join(cmd) + "\n").encode())
    f = s.makefile("rb")
    while True:
        hdr = f.read(5)
        if len(hdr) < 5:
            return 255
        kind, n = hdr[:1], struct.unpack("!I", hdr[1:])[0]
        data = f.read(n)
        if kind == b"x":
            return struct.unpack("!i", data)[0]
        out = sys.stdout if kind == b"o" else sys.stderr
        out.buffer.write(data)
        out.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(PORT, sys.argv[2] if len(sys.argv) > 2 else None)
    else:
        sys.exit(agent(sys.argv[1], sys.argv[2:]))
