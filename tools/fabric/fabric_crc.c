// SPDX-License-Identifier: GPL-2.0
/*
 * fabric_crc.c - CRC32C (Castagnoli) for link packets
 *
 * Contract: fabric_crc32c() is chainable and returns the standard CRC32C:
 * fabric_crc32c(0, "123456789", 9) == 0xe3069283, and
 * fabric_crc32c(fabric_crc32c(0, a, n), b, m) is the CRC of a then b.
 * fabric_crc_init() picks the implementation once: the SSE4.2 crc32
 * instruction if the CPU has it (checked at run time with cpuid, and
 * cross-checked against the table on a test buffer), else a byte-wise
 * table. The choice is logged with -v and kept in fabric.crc_hw.
 *
 * The crc32 instruction has a latency of 3 cycles and a throughput of 1,
 * so the hardware path runs three independent chains over three lanes of
 * CRC_LANE bytes and joins them: for the raw (uninverted) CRC state,
 * crc(s, A || B) = crc(0, B) ^ Z(crc(s, A)), where Z appends |B| zero
 * bytes and is linear in the state, hence four 256-entry tables.
 */
#include <string.h>

#include "fabric.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#define HAVE_CRC_HW	1
#endif

#define CRC32C_POLY	0x82f63b78u	/* Castagnoli, reflected */

#define CRC_LANE	512

static __u32 crc32c_table[256];
static __u32 zero_lane[4][256];	/* Z for CRC_LANE zero bytes */
static bool use_hw;

static __u32 crc32c_sw(__u32 crc, const __u8 *p, size_t len)
{
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

static __u32 shift_lane(__u32 c)
{
	return zero_lane[0][c & 0xff] ^ zero_lane[1][(c >> 8) & 0xff] ^
	       zero_lane[2][(c >> 16) & 0xff] ^ zero_lane[3][c >> 24];
}

#ifdef HAVE_CRC_HW
__attribute__((target("sse4.2")))
static __u32 crc32c_hw(__u32 crc, const __u8 *p, size_t len)
{
	__u64 c = crc;

	while (len && ((uintptr_t)p & 7)) {
		c = _mm_crc32_u8((__u32)c, *p++);
		len--;
	}
	while (len >= 3 * CRC_LANE) {
		__u64 c0 = c, c1 = 0, c2 = 0, w0, w1, w2;
		unsigned int i;

		for (i = 0; i < CRC_LANE; i += 8) {
			memcpy(&w0, p + i, 8);
			memcpy(&w1, p + CRC_LANE + i, 8);
			memcpy(&w2, p + 2 * CRC_LANE + i, 8);
			c0 = _mm_crc32_u64(c0, w0);
			c1 = _mm_crc32_u64(c1, w1);
			c2 = _mm_crc32_u64(c2, w2);
		}
		c = shift_lane(shift_lane((__u32)c0) ^ (__u32)c1) ^ (__u32)c2;
		p += 3 * CRC_LANE;
		len -= 3 * CRC_LANE;
	}
	while (len >= 8) {
		__u64 w;

		memcpy(&w, p, sizeof(w));
		c = _mm_crc32_u64(c, w);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((__u32)c, *p++);
	return (__u32)c;
}
#endif

__u32 fabric_crc32c(__u32 crc, const void *buf, size_t len)
{
#ifdef HAVE_CRC_HW
	if (use_hw)
		return ~crc32c_hw(~crc, buf, len);
#endif
	return ~crc32c_sw(~crc, buf, len);
}

const char *fabric_crc_impl(void)
{
	return use_hw ? "SSE4.2 crc32" : "table";
}

void fabric_crc_init(struct fabric *f)
{
	static const __u8 zeros[CRC_LANE];
	__u8 test[5 * CRC_LANE + 11];
	unsigned int i, b;
	__u32 sw;

	for (i = 0; i < 256; i++) {
		__u32 c = i;

		for (b = 0; b < 8; b++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
		crc32c_table[i] = c;
	}
	for (b = 0; b < 4; b++)
		for (i = 0; i < 256; i++)
			zero_lane[b][i] = crc32c_sw(i << (8 * b), zeros,
						    CRC_LANE);
	use_hw = false;
#ifdef HAVE_CRC_HW
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2")) {
		for (i = 0; i < sizeof(test); i++)
			test[i] = (__u8)(i * 7 + 3);
		sw = fabric_crc32c(0, test + 1, sizeof(test) - 1);
		use_hw = true;
		if (fabric_crc32c(0, test + 1, sizeof(test) - 1) != sw ||
		    fabric_crc32c(0, "123456789", 9) != 0xe3069283u)
			use_hw = false;
	}
#else
	(void)test;
	(void)sw;
#endif
	f->crc_hw = use_hw;
}
