// SPDX-License-Identifier: GPL-2.0
/*
 * Description: a peer that writes garbage into the shared memory of the
 * socket protocol breaks only its own connection. A rogue client speaks
 * the protocol by hand with the raw VMMC calls (wire formats from
 * ulib/sock/sock_loc.h): random bytes in the listen slots are ignored; a real
 * request is accepted; a state word with a bad check is ignored and the
 * connection still carries the rogue's bytes; trailers after its data
 * with a bad check, in the wrong place or stale are ignored, one whose
 * revoke fields lie harms nothing; a well-checked trailer that claims
 * credit for bytes never sent resets that connection
 * (ECONNRESET, and an RST written back to the rogue); meanwhile an honest
 * connection of the same listener keeps working, and the listener still
 * accepts new ones.
 */
#include "kselftest_harness.h"
#include "vmmc_sock_test.h"
#include "../ulib/sock/sock_loc.h"

#define RING	4096

FIXTURE(rogue) {
	struct vmmc_ep ep;
	uint8_t *region, *src;
	uint32_t exp, limp, simp, name;
	int l, c, a;		/* an honest pair on the same listener */
	uint16_t port;
};

FIXTURE_SETUP(rogue)
{
	self->port = vs_test_port(8);
	ASSERT_EQ(0, vs_pair(self->port, &self->l, &self->c, &self->a));
	ASSERT_EQ(0, vmmc_ep_open(&self->ep, VMMC_DEV));
	self->region = aligned_alloc(4096, VS_HDR + RING);
	self->src = aligned_alloc(4096, 8192);
	ASSERT_NE(NULL, self->region);
	memset(self->region, 0, VS_HDR + RING);
	self->name = VS_NAME_CONN | (vmmc_test_name(1) & 0xffffff);
	ASSERT_EQ(0, vmmc_export(&self->ep, self->region, VS_HDR + RING,
				 self->name, ~0ULL, &self->exp));
	ASSERT_EQ(0, vmmc_pin(&self->ep, self->src, 8192));
	ASSERT_EQ(0, vmmc_import(&self->ep, self->ep.info.node_id,
				 VS_NAME_LISTEN | self->port, &self->limp, NULL));
}

FIXTURE_TEARDOWN(rogue)
{
	struct vmmc_sock_stats st;

	vmmc_unexport(&self->ep, self->exp);
	vmmc_ep_close(&self->ep);
	free(self->region);
	free(self->src);
	vmmc_sock_close(self->a);
	vmmc_sock_close(self->c);
	vmmc_sock_close(self->l);
	vmmc_sock_stats(&st);
	EXPECT_EQ(0, st.sockets + st.conns + st.listeners + st.inflight);
}

/* the rogue's SEND of [src, src + len) to (imp, off), waited for */
static int put(struct vmmc_ep *ep, uint8_t *src, const void *p, size_t len,
	       uint32_t imp, uint64_t off)
{
	struct vmmc_cqe cqe;
	int err;

	memcpy(src, p, len);
	err = vmmc_send(ep, src, len, imp, off, VMMC_SQF_NOTIFY, 7);
	if (err)
		return err;
	err = vmmc_wait_cqe(ep, &cqe, 5000);
	if (err)
		return err;
	return cqe.status == VMMC_ST_OK ? 0 : -EIO;
}

/* the rogue's data at stream position @pos, its trailer @st behind it */
static int trail(FIXTURE_DATA(rogue) *self, const void *data, size_t len,
		 uint64_t pos, const struct vs_state *st)
{
	uint8_t b[128];

	memcpy(b, data, len);
	memcpy(b + len, st, sizeof(*st));
	return put(&self->ep, self->src, b, len + sizeof(*st), self->simp,
		   VS_HDR + pos);
}

static void state(struct vs_state *st, uint64_t sent, uint64_t nonce)
{
	memset(st, 0, sizeof(*st));
	st->sent = sent;
	st->nonce = nonce;
	st->check = vs_check(st, nonce);
}

TEST_F_TIMEOUT(rogue, garbage_breaks_only_its_connection, 120)
{
	struct vmmc_sock_stats st;
	struct vs_hello h;
	struct vs_state s;
	struct vs_req r;
	uint8_t junk[VS_LISTEN_SLOTS * VS_SLOT];
	uint64_t seed = 99, nonce = 0x1234567;
	uint32_t i;
	char b[8];
	int fd, x;

	/* random bytes in every slot: ignored */
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)vmmc_rand(&seed);
	ASSERT_EQ(0, put(&self->ep, self->src, junk, sizeof(junk), self->limp, 0));
	vmmc_sock_set_nonblock(self->l, 1);
	EXPECT_EQ(-EAGAIN, vmmc_sock_accept(self->l, NULL, NULL));
	vmmc_sock_set_nonblock(self->l, 0);

	/* a real request: accepted, with a hello in our region */
	memset(&r, 0, sizeof(r));
	r.magic = VS_MAGIC;
	r.version = VS_VERSION;
	r.port = 7;
	r.node = self->ep.info.node_id;
	r.name = self->name;
	r.ring = RING;
	r.nonce = nonce;
	r.check = vs_check(&r, nonce);
	ASSERT_EQ(0, put(&self->ep, self->src, &r, sizeof(r), self->limp, 3 * VS_SLOT));
	fd = vmmc_sock_accept(self->l, NULL, NULL);
	ASSERT_LE(0, fd);
	for (i = 0; i < 5000; i++) {	/* the hello lands soon after */
		vmmc_sock_progress();
		memcpy(&h, self->region + VS_OFF_HELLO, sizeof(h));
		if (h.magic == VS_MAGIC)
			break;
		usleep(1000);
	}
	ASSERT_EQ(VS_MAGIC, h.magic);
	ASSERT_EQ(0, h.status);
	/* the hello's key is the region's secret: without it, no import */
	EXPECT_EQ(-ENOENT, vmmc_import(&self->ep, self->ep.info.node_id,
				       h.name, &self->simp, NULL));
	ASSERT_EQ(0, vmmc_import_key(&self->ep, self->ep.info.node_id, h.name,
				     h.key, &self->simp, NULL));

	/* a state with a bad check: ignored; then real bytes arrive */
	state(&s, 1000000, nonce);
	s.check ^= 1;
	ASSERT_EQ(0, put(&self->ep, self->src, &s, sizeof(s), self->simp, VS_OFF_STATE));
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(fd, b, sizeof(b), MSG_DONTWAIT));
	ASSERT_EQ(0, put(&self->ep, self->src, "abc", 3, self->simp, VS_HDR));
	state(&s, 3, nonce);
	ASSERT_EQ(0, put(&self->ep, self->src, &s, sizeof(s), self->simp, VS_OFF_STATE));
	EXPECT_EQ(3, vmmc_sock_recv(fd, b, sizeof(b), 0));
	EXPECT_EQ(0, memcmp(b, "abc", 3));

	/*
	 * Trailers (data and a state after it, one notifying SEND): one
	 * with a bad check, one not where its sent ends, a stale one: all
	 * ignored; a true one delivers; one whose revoke lies is obeyed
	 * (the victim says it saw it, in its state word) and harms nothing.
	 */
	state(&s, 7, nonce);
	s.check ^= 2;
	ASSERT_EQ(0, trail(self, "defg", 4, 3, &s));
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(fd, b, sizeof(b), MSG_DONTWAIT));
	state(&s, 6, nonce);
	ASSERT_EQ(0, trail(self, "defg", 4, 3, &s));
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(fd, b, sizeof(b), MSG_DONTWAIT));
	state(&s, 2, nonce);
	ASSERT_EQ(0, trail(self, "defg", 4, 3, &s));
	EXPECT_EQ(-EAGAIN, vmmc_sock_recv(fd, b, sizeof(b), MSG_DONTWAIT));
	state(&s, 7, nonce);
	s.revoke = 0xdead;
	s.revoke_seen = ~0ULL;
	s.check = vs_check(&s, nonce);
	ASSERT_EQ(0, trail(self, "defg", 4, 3, &s));
	EXPECT_EQ(4, vmmc_sock_recv(fd, b, sizeof(b), 0));
	EXPECT_EQ(0, memcmp(b, "defg", 4));
	for (i = 0; i < 1000; i++) {
		vmmc_sock_progress();
		memcpy(&s, self->region + VS_OFF_STATE, sizeof(s));
		if (s.revoke_seen == 0xdead)
			break;
		usleep(1000);
	}
	EXPECT_EQ(0xdead, s.revoke_seen);
	EXPECT_EQ(0, s.flags & VS_F_RST);

	/* a checked trailer that lies (credit for bytes never sent): reset */
	state(&s, 9, nonce);
	s.consumed = 1;
	s.check = vs_check(&s, nonce);
	ASSERT_EQ(0, trail(self, "hi", 2, 7, &s));
	EXPECT_EQ(-ECONNRESET, vmmc_sock_recv(fd, b, sizeof(b), 0));
	EXPECT_EQ(-EPIPE, vmmc_sock_send(fd, "x", 1, MSG_NOSIGNAL));
	vmmc_sock_stats(&st);
	EXPECT_EQ(1, st.garbage);
	/* ... and the rogue was told so */
	for (i = 0; i < 1000; i++) {
		vmmc_sock_progress();
		memcpy(&s, self->region + VS_OFF_STATE, sizeof(s));
		if (s.flags & VS_F_RST)
			break;
		usleep(1000);
	}
	EXPECT_EQ(VS_F_RST, s.flags & VS_F_RST);
	EXPECT_EQ(0, vmmc_sock_close(fd));
	vmmc_unimport(&self->ep, self->simp);

	/* the honest connection and the listener are fine */
	EXPECT_EQ(4, vmmc_sock_send(self->c, "fine", 4, 0));
	EXPECT_EQ(4, vmmc_sock_recv(self->a, b, 4, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(b, "fine", 4));
	x = vmmc_socket(AF_VMMC, SOCK_STREAM, 0);
	struct sockaddr_vmmc sa = vs_sa(VMMC_NODE_ANY, self->port);

	EXPECT_EQ(0, vmmc_sock_connect(x, VS_SA(sa)));
	fd = vmmc_sock_accept(self->l, NULL, NULL);
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, vmmc_sock_close(fd));
	EXPECT_EQ(0, vmmc_sock_close(x));
	vmmc_unimport(&self->ep, self->limp);
}

TEST_HARNESS_MAIN
