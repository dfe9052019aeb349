#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""node_gone.py ADDR [SECONDS]: wait until the guest at ADDR no longer
answers on the virtio-net link (it powered off): exit 0 when it is gone,
1 if it still answers after SECONDS (default 30). A TCP connect to the
discard port is refused (RST) while the guest is up; once it is gone the
connect times out or the address does not resolve (EHOSTUNREACH)."""
import socket
import sys
import time


def answers(addr):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect((addr, 9))
        return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: node_gone.py ADDR [SECONDS]\n")
        return 2
    end = time.monotonic() + (float(sys.argv[2]) if len(sys.argv) == 3 else 30)
    while time.monotonic() < end:
        if not answers(sys.argv[1]):
            return 0
        time.sleep(0.5)
    return 1


if __name__ == "__main__":
    sys.exit(main())
