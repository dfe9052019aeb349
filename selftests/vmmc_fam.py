# SPDX-License-Identifier: GPL-2.0
"""Which transport a socket went by under the shim, for the test clients
and servers in selftests/ (dual_echo.py, memcache_check.py)."""
import socket

SOL_VMMC, AF_VMMC, VMMC_SO_BUSY_POLL = 0x4d56, 0x4d56, 2


def domain_of(s):
    """AF_VMMC when the shim made s a VMMC socket (it alone answers a
    SOL_VMMC option; its SO_DOMAIN is the family created, as the kernel's),
    else SO_DOMAIN."""
    try:
        s.getsockopt(SOL_VMMC, VMMC_SO_BUSY_POLL)
        return AF_VMMC
    except OSError:
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN)
