/* SPDX-License-Identifier: MIT */
/*
 * sock_shim.h - what the LD_PRELOAD shim (preload/) may ask the socket
 * layer beyond its public API (vmmc_sock.h). Not installed, not exported:
 * the shim is linked with the library's objects.
 */
#ifndef VMMC_SOCK_SHIM_H
#define VMMC_SOCK_SHIM_H

#include <stdint.h>

/*
 * How many completions and notifications the socket layer has taken from
 * the endpoint so far (under the caller's lock, as every call). A thread
 * that took some while another was blocked on the endpoint's fd may have
 * taken that thread's news: the endpoint's fd is readable no more, so the
 * shim wakes its blocked threads itself (preload.c, vp_kick()).
 */
uint64_t vs_news(void);

#endif /* VMMC_SOCK_SHIM_H */
