#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Cluster barrier over the nodes' virtio-net link (kernel TCP).

  barrier.py wait [PORT]          block until node 0 says it is done
  barrier.py notify HOST [PORT]   tell HOST that node 0 is done

Both sides give up after VMMC_BARRIER_LIMIT seconds (default 600) so that
a dead peer cannot hang a run.
"""
import os
import socket
import sys
import time

PORT = 7777
LIMIT = int(os.environ.get("VMMC_BARRIER_LIMIT", "600"))


def wait(port):
    srv = socket.create_server(("0.0.0.0", port), reuse_port=True)
    srv.settimeout(LIMIT)
    conn, _ = srv.accept()
    conn.settimeout(LIMIT)
    conn.recv(16)
    conn.close()


def notify(host, port):
    deadline = time.monotonic() + LIMIT
    while True:
        try:
            with socket.create_connection((host, port), timeout=5) as s:
                s.sendall(b"done\n")
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "wait":
        wait(int(sys.argv[2]) if len(sys.argv) > 2 else PORT)
    elif len(sys.argv) >= 3 and sys.argv[1] == "notify":
        notify(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else PORT)
    else:
        sys.exit(__doc__)
