/* SPDX-License-Identifier: GPL-2.0 */
/*
 * test_send.h - the SEND tests' shared set-up: node0 ep10 sends from a
 * scattered 1026-page source pinned at UTLB slot TS_SLOT; import 0 is
 * export 1 of node0 (owner ep11), import 1 export 1 of node1 (owner
 * ep10), both TS_ELEN bytes over 1026 scattered pages at first_off 123.
 */
#ifndef TEST_SEND_H
#define TEST_SEND_H

#include "fake_guest.h"

#define TS_SLOT		100
#define TS_SRC_PAGES	1026
#define TS_DST_PAGES	1026
#define TS_MAX_LEN	(4u << 20)
#define TS_ELEN		(TS_MAX_LEN + 2000ull)
#define TS_DST_BASE	(FG_DATA + (8u << 20))

struct ts_dst {
	struct fg_buf buf;
	struct fg_ep *owner;
	__u32 export_id;
};

struct ts {
	struct fg *g0, *g1;
	struct fg_ep s0;	/* node0 ep10: the sender */
	struct fg_ep o0, o1;	/* owners: node0 ep11, node1 ep10 */
	struct fg_buf src;
	struct ts_dst dst[2];
};

__u64 ts_rnd(void);
void ts_fill_dst(const struct fg_buf *d, __u8 seed);
unsigned int ts_fill_nq(struct ts *t);
bool ts_check_dst(const struct fg_buf *d, __u8 seed, const struct fg_buf *s,
		  __u32 soff, __u64 doff, __u32 len);
void ts_fill_src(const struct fg_buf *s, __u32 soff, __u32 len);
bool ts_setup(struct ts *t, struct fg *g0, struct fg *g1);
bool ts_import(struct ts *t, unsigned int which);
void test_send_errors(struct ts *t);
void test_rogue_nq(struct ts *t);
void test_send_garbage(struct ts *t);
bool ts_xfer(struct ts *t, unsigned int which, __u32 len, __u64 doff,
	     __u64 tag, int timeout_ms);

#endif /* TEST_SEND_H */
