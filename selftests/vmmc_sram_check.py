#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reads a vmmc NIC's tables straight from its SRAM (PCI BAR2, through
sysfs) and reports every entry that is not free: endpoint contexts not
FREE, exports not FREE, import rows in use. With no endpoint open, a
clean driver leaves none. Exit 0 if none, 1 if some (each printed), 2 if
the SRAM cannot be read. Offsets and sizes come from uapi/vmmc.h.

Usage: vmmc_sram_check.py [DEV]     (default vmmc0; needs root)
"""
import mmap
import os
import struct
import sys

SRAM_SIZE = 16 << 20
EPCTX, EPCTX_SIZE, MAX_EPS = 0x002000, 128, 64
EXPORTS, EXPORT_SIZE, MAX_EXPORTS = 0x090000, 128, 16384
IMPORTS, IMPORT_SIZE, MAX_IMPORTS = 0x290000, 32, 4160
EP_STATE = {0: "FREE", 1: "ACTIVE", 2: "FENCED"}
EXPORT_STATE = {0: "FREE", 1: "ACTIVE", 2: "REVOKED"}


def main():
    dev = sys.argv[1] if len(sys.argv) > 1 else "vmmc0"
    res = os.path.join("/sys/class/vmmc", dev, "device", "resource2")
    try:
        fd = os.open(res, os.O_RDONLY | os.O_SYNC)
        sram = mmap.mmap(fd, SRAM_SIZE, mmap.MAP_SHARED, mmap.PROT_READ)
    except OSError as e:
        print(f"vmmc_sram_check: {res}: {e}", file=sys.stderr)
        return 2
    stale = []

    def u32(off):
        return struct.unpack_from("<I", sram, off)[0]

    for i in range(MAX_EPS):
        st = u32(EPCTX + i * EPCTX_SIZE)
        if st:
            stale.append(f"endpoint context {i}: {EP_STATE.get(st, st)}")
    for i in range(MAX_EXPORTS):
        off = EXPORTS + i * EXPORT_SIZE
        st = u32(off)
        if st:
            stale.append(f"export {i}: {EXPORT_STATE.get(st, st)} name "
                         f"0x{u32(off + 4):x}")
    for i in range(MAX_EPS * MAX_IMPORTS):
        off = IMPORTS + i * IMPORT_SIZE
        if u32(off):
            stale.append(f"import row {i // MAX_IMPORTS}/{i % MAX_IMPORTS}:"
                         f" node {u32(off + 4)} export {u32(off + 8)}")
    for s in stale:
        print(f"# stale in the NIC: {s}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
