#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed requests to the vmmc generic netlink family get an errno.

Speaks raw generic netlink (no libnl) so that it can send what libnl
would never build: wrong attribute sizes, unknown attributes, unknown
commands, a missing attribute, truncated messages. Each must be answered
with the exact errno, and the family must still answer a good request
afterwards. Exit 0 when all hold; prints what did not.
"""
import errno
import os
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
# from uapi/vmmc_nl.h
CMD_DEV_GET = 1
CMD_EP_GET = 2
CMD_DEV_SET = 5
A_DEV_INDEX = 1
A_SPIN_NS = 29


def attr(atype, payload):
    a = struct.pack("=HH", 4 + len(payload), atype) + payload
    return a + b"\0" * ((4 - len(a) % 4) % 4)


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                               NETLINK_GENERIC)
        self.s.settimeout(5)
        self.s.bind((0, 0))
        self.seq = 1

    def request(self, msg_type, cmd, attrs=b"", raw=None):
        """Send; return (errno or 0, list of reply payloads)."""
        self.seq += 1
        body = struct.pack("=BBH", cmd, 1, 0) + attrs
        msg = struct.pack("=IHHII", 16 + len(body), msg_type,
                          NLM_F_REQUEST | NLM_F_ACK, self.seq, 0) + body
        self.s.send(raw if raw is not None else msg)
        replies = []
        while True:
            data = self.s.recv(65536)
            off = 0
            while off + 16 <= len(data):
                ln, typ, _, _, _ = struct.unpack_from("=IHHII", data, off)
                if typ == NLMSG_ERROR:
                    err = struct.unpack_from("=i", data, off + 16)[0]
                    return -err, replies
                replies.append(data[off + 20:off + ln])
                off += (ln + 3) & ~3

    def family(self, name):
        err, rep = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                attr(CTRL_ATTR_FAMILY_NAME,
                                     name.encode() + b"\0"))
        if err:
            return None
        p = rep[0]
        off = 0
        while off + 4 <= len(p):
            ln, typ = struct.unpack_from("=HH", p, off)
            if typ == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("=H", p, off + 4)[0]
            off += (ln + 3) & ~3
        return None


def main():
    g = Genl()
    fam = g.family("vmmc")
    if fam is None:
        print("vmmc family not found")
        return 1
    bad = 0
    cases = [
        ("dev_index_too_short", CMD_DEV_GET, attr(A_DEV_INDEX, b"\1"),
         errno.EINVAL),
        ("unknown_attribute", CMD_DEV_GET,
         attr(A_DEV_INDEX, struct.pack("=I", 0)) +
         attr(200, struct.pack("=I", 1)), errno.EINVAL),
        ("known_attr_not_allowed_in_request", CMD_DEV_GET,
         attr(A_DEV_INDEX, struct.pack("=I", 0)) +
         attr(4, struct.pack("=I", 1)), errno.EINVAL),
        ("missing_dev_index", CMD_DEV_GET, b"", errno.EINVAL),
        ("no_such_dev", CMD_DEV_GET, attr(A_DEV_INDEX,
                                          struct.pack("=I", 12345)),
         errno.ENODEV),
        ("unknown_command", 99, b"", errno.EOPNOTSUPP),
        ("command_zero", 0, b"", errno.EOPNOTSUPP),
        ("ep_get_is_dump_only", CMD_EP_GET, b"", errno.EOPNOTSUPP),
        ("dev_set_spin_over_1s", CMD_DEV_SET,
         attr(A_DEV_INDEX, struct.pack("=I", 0)) +
         attr(A_SPIN_NS, struct.pack("=I", 1000000001)), errno.ERANGE),
        ("dev_set_without_spin", CMD_DEV_SET,
         attr(A_DEV_INDEX, struct.pack("=I", 0)), errno.EINVAL),
        ("dev_set_no_such_dev", CMD_DEV_SET,
         attr(A_DEV_INDEX, struct.pack("=I", 99)) +
         attr(A_SPIN_NS, struct.pack("=I", 1)), errno.ENODEV),
    ]
    for name, cmd, attrs, want in cases:
        got, _ = g.request(fam, cmd, attrs)
        if got != want:
            print(f"{name}: got errno {got} ({os.strerror(got)}), "
                  f"want {want} ({os.strerror(want)})")
            bad += 1
    # a header that claims more bytes than sent: the kernel drops it or
    # answers with an error, and keeps serving
    trunc = struct.pack("=IHHII", 64, fam, NLM_F_REQUEST | NLM_F_ACK, 99, 0)
    trunc += struct.pack("=BBH", CMD_DEV_GET, 1, 0)
    try:
        g.request(fam, 0, raw=trunc)
    except socket.timeout:
        pass
    # still healthy: a good request answers
    got, rep = Genl().request(fam, CMD_DEV_GET,
                              attr(A_DEV_INDEX, struct.pack("=I", 0)))
    if got != 0 or not rep:
        print(f"good request after the bad ones: errno {got}")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
