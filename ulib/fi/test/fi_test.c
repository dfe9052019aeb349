// SPDX-License-Identifier: MIT
/*
 * fi_test - the vmmc libfabric provider between two nodes, through the
 * public libfabric API only (TAP). Node 0 serves, node 1 connects:
 *   fi_test server PORT        fi_test client ADDR PORT
 * Checks: a reject carries its data to the refused side (FI_ECONNREFUSED);
 * connect and accept carry theirs; a request rejected again, or rejected
 * after its accept, fails FI_EINVAL; send/recv byte for byte at 1 B, 300 B
 * (inline) and 100000 B (fragments), with remote CQ data; a message too
 * long for its receive fails FI_ETRUNC with the overflow and the next one
 * still arrives; RMA write with remote CQ data lands byte for byte and the
 * target sees the data; an emulated read returns the bytes (70000 B
 * answered into the exported buffer, FI_VMMC_DIRECT_READ being 65536
 * here, 60000 B through the ring), one past
 * the region fails FI_EINVAL; a wrong key fails FI_EKEYREJECTED and a range past the region FI_EINVAL, both in
 * the CQ; the region registered again for FI_REMOTE_READ alone can be
 * read but not written (FI_EKEYREJECTED: it is not exported); a region
 * longer than the NIC's 64 MiB export limit takes writes across the
 * limit and past it byte for byte, and one past its end fails FI_EINVAL;
 * a CQ's wait fd: fi_trywait says empty, epoll wakes when a
 * message comes; the server's fi_shutdown gives the client FI_SHUTDOWN
 * and its sends then fail FI_ENOTCONN.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/epoll.h>

#include <rdma/fabric.h>
#include <rdma/fi_cm.h>
#include <rdma/fi_domain.h>
#include <rdma/fi_endpoint.h>
#include <rdma/fi_eq.h>
#include <rdma/fi_errno.h>
#include <rdma/fi_rma.h>

#define VER		FI_VERSION(1, 17)
#define REGION		(1u << 20)
#define BIG		100000u
#define PART		(64u << 20)	/* the NIC's export limit */
#define HUGE		(PART + (2u << 20))

static int n, fails;

static void ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", cond ? "ok" : "not ok", ++n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		fails++;
}

static void die(const char *what, int ret)
{
	printf("not ok %d %s: %s\n", ++n, what, fi_strerror(-ret));
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n",
	       n - fails - 1, fails + 1);
	exit(1);
}

#define TRY(call) do { int r_ = (int)(call); if (r_) die(#call, r_); } while (0)

static struct fi_info *info;
static struct fid_fabric *fab;
static struct fid_domain *dom;
static struct fid_eq *eq;
static struct fid_cq *txcq, *rxcq;
static struct fid_ep *ep;
static struct fid_pep *pep;
static char *buf, *region, *huge;
static struct fid_mr *mr, *romr;	/* romr: region again, FI_REMOTE_READ */
static struct fid_mr *hmr;		/* huge, FI_REMOTE_WRITE (server) */

/* the next CM event (seconds), or -errno; *err: an FI_EAVAIL's details */
static ssize_t cm_event(uint32_t *ev, struct fi_eq_cm_entry *e, size_t len,
			struct fi_eq_err_entry *err)
{
	ssize_t r = fi_eq_sread(eq, ev, e, len, 30000, 0);

	if (r == -FI_EAVAIL && err) {
		memset(err, 0, sizeof(*err));
		fi_eq_readerr(eq, err, 0);
	}
	return r;
}

/* one completion from cq (30 s), or the error entry's -err */
static int comp(struct fid_cq *cq, struct fi_cq_data_entry *c,
		struct fi_cq_err_entry *err)
{
	int i;
	ssize_t r;

	for (i = 0; i < 300; i++) {
		r = fi_cq_sread(cq, c, 1, NULL, 100);
		if (r == 1)
			return 0;
		if (r == -FI_EAVAIL) {
			memset(err, 0, sizeof(*err));
			fi_cq_readerr(cq, err, 0);
			return -err->err;
		}
		if (r != -FI_EAGAIN)
			return (int)r;
	}
	return -FI_ETIMEDOUT;
}

static void fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)(seed + i * 7 + (i >> 8));
}

static int same(const char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (char)(seed + i * 7 + (i >> 8)))
			return 0;
	return 1;
}

static int zero(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static void open_common(const char *node, const char *port, uint64_t flags)
{
	struct fi_info *hints = fi_allocinfo();
	struct fi_eq_attr ea = { .wait_obj = FI_WAIT_UNSPEC };
	struct fi_cq_attr ca = { .format = FI_CQ_FORMAT_DATA,
				 .wait_obj = FI_WAIT_FD };

	hints->ep_attr->type = FI_EP_MSG;
	hints->caps = FI_MSG | FI_RMA;
	hints->domain_attr->mr_mode = FI_MR_PROV_KEY | FI_MR_ALLOCATED;
	hints->fabric_attr->prov_name = strdup("vmmc");
	TRY(fi_getinfo(VER, node, port, flags, hints, &info));
	fi_freeinfo(hints);
	TRY(fi_fabric(info->fabric_attr, &fab, NULL));
	TRY(fi_eq_open(fab, &ea, &eq, NULL));
	TRY(fi_domain(fab, info, &dom, NULL));
	TRY(fi_cq_open(dom, &ca, &txcq, NULL));
	TRY(fi_cq_open(dom, &ca, &rxcq, NULL));
	buf = calloc(1, 2 * BIG);
	if (posix_memalign((void **)&region, 4096, REGION))
		die("posix_memalign", -FI_ENOMEM);
	memset(region, 0, REGION);
	TRY(fi_mr_reg(dom, region, REGION, FI_REMOTE_WRITE | FI_REMOTE_READ,
		      0, 0, 0, &mr, NULL));
	TRY(fi_mr_reg(dom, region, REGION, FI_REMOTE_READ, 0, 0, 0, &romr,
		      NULL));
}

static void make_ep(struct fi_info *fi)
{
	TRY(fi_endpoint(dom, fi, &ep, NULL));
	TRY(fi_ep_bind(ep, &eq->fid, 0));
	TRY(fi_ep_bind(ep, &txcq->fid, FI_TRANSMIT));
	TRY(fi_ep_bind(ep, &rxcq->fid, FI_RECV));
	TRY(fi_enable(ep));
}

static void send_one(const void *p, size_t len, uint64_t data)
{
	struct fi_cq_data_entry c;
	struct fi_cq_err_entry e;

	TRY(fi_senddata(ep, p, len, NULL, data, 0, NULL));
	TRY(comp(txcq, &c, &e));
}

static int server(const char *port)
{
	_Alignas(struct fi_eq_cm_entry) char cmb[sizeof(struct fi_eq_cm_entry) +
						 256];
	struct fi_eq_cm_entry *cm = (struct fi_eq_cm_entry *)cmb;
	struct fi_cq_data_entry c;
	struct fi_cq_err_entry e;
	uint64_t key[3];
	uint32_t ev;
	fid_t handle;
	ssize_t r;
	int ret;

	/* the request refused */
	TRY(fi_passive_ep(fab, info, &pep, NULL));
	TRY(fi_pep_bind(pep, &eq->fid, 0));
	TRY(fi_listen(pep));
	r = cm_event(&ev, cm, sizeof(cmb), NULL);
	ok(r > 0 && ev == FI_CONNREQ &&
	   !strcmp((char *)cm->data, "first"),
	   "server: FI_CONNREQ with the client's data \"first\"");
	handle = cm->info->handle;
	TRY(fi_reject(pep, handle, "go away", 8));
	fi_freeinfo(cm->info);
	r = fi_reject(pep, handle, NULL, 0);
	ok(r == -FI_EINVAL, "server: the request rejected again: FI_EINVAL (%zd)",
	   r);

	/* the request accepted */
	r = cm_event(&ev, cm, sizeof(cmb), NULL);
	ok(r > 0 && ev == FI_CONNREQ && !strcmp((char *)cm->data, "second"),
	   "server: second FI_CONNREQ with \"second\"");
	handle = cm->info->handle;
	make_ep(cm->info);
	fi_freeinfo(cm->info);
	TRY(fi_recv(ep, buf, 2 * BIG, NULL, 0, NULL));
	TRY(fi_accept(ep, "welcome", 8));
	r = cm_event(&ev, cm, sizeof(cmb), NULL);
	ok(r > 0 && ev == FI_CONNECTED && cm->fid == &ep->fid,
	   "server: FI_CONNECTED");
	r = fi_reject(pep, handle, NULL, 0);
	ok(r == -FI_EINVAL, "server: fi_reject after fi_accept: FI_EINVAL (%zd)",
	   r);

	/* three sizes, remote CQ data */
	for (int i = 0; i < 3; i++) {
		static const size_t len[] = { 1, 300, BIG };

		ret = comp(rxcq, &c, &e);
		ok(!ret && c.len == len[i] && same(buf, len[i], 11 + i) &&
		   (c.flags & FI_REMOTE_CQ_DATA) && c.data == 0x1000u + i,
		   "server: received %zu B byte for byte, CQ data %#lx",
		   len[i], (unsigned long)c.data);
		TRY(fi_recv(ep, buf, i == 2 ? 100 : 2 * BIG, NULL, 0, NULL));
	}
	/* 1000 B into 100 B: truncated */
	ret = comp(rxcq, &c, &e);
	ok(ret == -FI_ETRUNC && e.olen == 900 && e.len == 100,
	   "server: 1000 B into 100 B: FI_ETRUNC, olen %zu", e.olen);
	TRY(fi_recv(ep, buf, 2 * BIG, NULL, 0, NULL));
	ret = comp(rxcq, &c, &e);
	ok(!ret && c.len == 5 && !memcmp(buf, "next", 5),
	   "server: the message after the truncated one arrives whole");

	/* the keys for the client's RMA */
	huge = calloc(1, HUGE);
	if (!huge)
		die("calloc", -FI_ENOMEM);
	TRY(fi_mr_reg(dom, huge, HUGE, FI_REMOTE_WRITE, 0, 0, 0, &hmr, NULL));
	key[0] = fi_mr_key(mr);
	key[1] = fi_mr_key(romr);
	key[2] = fi_mr_key(hmr);
	TRY(fi_recv(ep, buf, 2 * BIG, NULL, 0, NULL));
	send_one(key, sizeof(key), 0);
	ret = comp(rxcq, &c, &e);
	ok(!ret && (c.flags & FI_REMOTE_CQ_DATA) && (c.flags & FI_RMA) &&
	   c.data == 0xabcdef && same(region + 4096, 65536, 99),
	   "server: RMA write landed byte for byte, remote CQ data %#lx",
	   (unsigned long)c.data);
	ok(zero(region, 4096) && zero(region + 4096 + 65536, REGION - 69632),
	   "server: nothing written outside the write's range");
	/* the huge region: a write across 64 MiB, then one past it */
	ret = comp(rxcq, &c, &e);
	ok(!ret && (c.flags & FI_REMOTE_CQ_DATA) && c.data == 0x5eed &&
	   same(huge + PART - 32768, 65536, 77) &&
	   same(huge + PART + (1u << 20), 65536, 78) &&
	   /* where a part's offsets taken as the region's would land */
	   zero(huge, (2u << 20) + 65536) &&
	   zero(huge + PART - (1u << 20), (1u << 20) - 32768) &&
	   zero(huge + PART + 32768, (1u << 20) - 32768) &&
	   zero(huge + PART + (1u << 20) + 65536, (1u << 20) - 65536),
	   "server: a %u B region: writes across and past 64 MiB landed byte for byte, nothing around them written",
	   HUGE);
	fi_close(&hmr->fid);
	free(huge);
	/* the client reads back, then asks for a message to wait for */
	fill(region + 200000, 70000, 55);
	TRY(fi_recv(ep, buf, 2 * BIG, NULL, 0, NULL));
	send_one("filled", 7, 0);
	ret = comp(rxcq, &c, &e);	/* "wait" */
	sleep(1);
	send_one("wake", 5, 0);
	ret = comp(rxcq, &c, &e);	/* "bye" */
	TRY(fi_shutdown(ep, 0));
	sleep(1);
	return 0;
}

static int client(const char *addr, const char *port)
{
	_Alignas(struct fi_eq_cm_entry) char cmb[sizeof(struct fi_eq_cm_entry) +
						 256];
	struct fi_eq_cm_entry *cm = (struct fi_eq_cm_entry *)cmb;
	struct fi_eq_err_entry ee;
	struct fi_cq_data_entry c;
	struct fi_cq_err_entry e;
	struct epoll_event pev = { .events = EPOLLIN };
	uint64_t key = 0, rokey = 0, hkey = 0;
	uint32_t ev;
	ssize_t r;
	int ret, i, fd, epfd;

	/* refused, with the server's reason; retry until it listens */
	make_ep(info);
	for (i = 0; i < 100; i++) {
		ret = fi_connect(ep, info->dest_addr, "first", 6);
		if (ret != -FI_ECONNREFUSED)
			break;
		usleep(200000);
	}
	TRY(ret);
	r = cm_event(&ev, cm, sizeof(cmb), &ee);
	ok(r == -FI_EAVAIL && ee.err == FI_ECONNREFUSED &&
	   ee.err_data_size == 8 && !strcmp(ee.err_data, "go away"),
	   "client: rejected: FI_ECONNREFUSED with the data \"go away\"");
	TRY(fi_close(&ep->fid));

	make_ep(info);
	TRY(fi_recv(ep, buf, 2 * BIG, NULL, 0, NULL));
	TRY(fi_connect(ep, info->dest_addr, "second", 7));
	r = cm_event(&ev, cm, sizeof(cmb), NULL);
	ok(r == (ssize_t)sizeof(*cm) + 8 && ev == FI_CONNECTED &&
	   !strcmp((char *)cm->data, "welcome"),
	   "client: FI_CONNECTED with the data \"welcome\"");

	for (i = 0; i < 3; i++) {
		static const size_t len[] = { 1, 300, BIG };

		fill(buf + BIG, len[i], 11 + i);
		send_one(buf + BIG, len[i], 0x1000u + i);
	}
	send_one(buf, 1000, 0);
	send_one("next", 5, 0);

	/* RMA */
	ret = comp(rxcq, &c, &e);
	memcpy(&key, buf, sizeof(key));
	memcpy(&rokey, buf + sizeof(key), sizeof(rokey));
	memcpy(&hkey, buf + 2 * sizeof(key), sizeof(hkey));
	ok(!ret && c.len == 3 * sizeof(key), "client: got the regions' keys");
	TRY(fi_recv(ep, buf, 2 * BIG, NULL, 0, NULL));
	fill(buf + BIG, 65536, 99);
	TRY(fi_writedata(ep, buf + BIG, 65536, NULL, 0xabcdef, 0, 4096, key,
			 NULL));
	ret = comp(txcq, &c, &e);
	ok(!ret, "client: fi_writedata completed");
	TRY(fi_write(ep, buf + BIG, 100, NULL, 0, 0, key ^ 1, NULL));
	ret = comp(txcq, &c, &e);
	ok(ret == -FI_EKEYREJECTED, "client: a wrong key: FI_EKEYREJECTED (%d)",
	   ret);
	TRY(fi_write(ep, buf + BIG, 100, NULL, 0, REGION - 10, key, NULL));
	ret = comp(txcq, &c, &e);
	ok(ret == -FI_EINVAL, "client: past the region's end: FI_EINVAL (%d)",
	   ret);
	/* the server's region of more than the NIC's export limit */
	fill(buf + BIG, 65536, 77);
	TRY(fi_write(ep, buf + BIG, 65536, NULL, 0, PART - 32768, hkey, NULL));
	ret = comp(txcq, &c, &e);
	TRY(fi_write(ep, buf + BIG, 100, NULL, 0, HUGE - 10, hkey, NULL));
	ok(!ret && comp(txcq, &c, &e) == -FI_EINVAL,
	   "client: a write across 64 MiB of a %u B region completed, one past its end FI_EINVAL",
	   HUGE);
	fill(buf + BIG, 65536, 78);
	TRY(fi_writedata(ep, buf + BIG, 65536, NULL, 0x5eed, 0,
			 PART + (1u << 20), hkey, NULL));
	ret = comp(txcq, &c, &e);
	ok(!ret, "client: a write past 64 MiB, with remote CQ data, completed");
	ret = comp(rxcq, &c, &e);	/* "filled" */
	TRY(fi_recv(ep, buf, 2 * BIG, NULL, 0, NULL));
	memset(buf + BIG, 0, BIG);
	TRY(fi_read(ep, buf + BIG, 70000, NULL, 0, 200000, key, NULL));
	ret = comp(txcq, &c, &e);
	ok(!ret && (c.flags & FI_READ) && same(buf + BIG, 70000, 55) &&
	   zero(buf + BIG + 70000, BIG - 70000),
	   "client: fi_read (emulated, answered into the exported buffer) returned 70000 B byte for byte, nothing past it");
	memset(buf + BIG, 0, BIG);
	TRY(fi_read(ep, buf + BIG + 1, 60000, NULL, 0, 200000, key, NULL));
	ret = comp(txcq, &c, &e);
	ok(!ret && (c.flags & FI_READ) && same(buf + BIG + 1, 60000, 55) &&
	   zero(buf + BIG, 1) && zero(buf + BIG + 60001, BIG - 60001),
	   "client: fi_read of 60000 B (through the ring) byte for byte, nothing around it");
	TRY(fi_read(ep, buf + BIG, 70000, NULL, 0, REGION - 1000, key, NULL));
	ret = comp(txcq, &c, &e);
	ok(ret == -FI_EINVAL, "client: a 70000 B read past the region's end: FI_EINVAL (%d)",
	   ret);
	TRY(fi_read(ep, buf + BIG, 10, NULL, 0, 0, key + 1, NULL));
	ret = comp(txcq, &c, &e);
	ok(ret == -FI_EKEYREJECTED, "client: a read with a wrong key: FI_EKEYREJECTED (%d)",
	   ret);
	/* registered for FI_REMOTE_READ alone: readable, never writable */
	memset(buf + BIG, 0, BIG);
	TRY(fi_read(ep, buf + BIG, 70000, NULL, 0, 200000, rokey, NULL));
	ret = comp(txcq, &c, &e);
	TRY(fi_write(ep, buf + BIG, 100, NULL, 0, 200000, rokey, NULL));
	ok(!ret && same(buf + BIG, 70000, 55) &&
	   comp(txcq, &c, &e) == -FI_EKEYREJECTED,
	   "client: a region registered for FI_REMOTE_READ only: read byte for byte, a write FI_EKEYREJECTED");

	/* the wait fd */
	TRY(fi_control(&rxcq->fid, FI_GETWAIT, &fd));
	epfd = epoll_create1(0);
	epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &pev);
	send_one("wait", 5, 0);
	struct fid *f = &rxcq->fid;

	ret = fi_trywait(fab, &f, 1);
	ok(ret == 0, "client: fi_trywait on an empty CQ: 0 (%d)", ret);
	r = epoll_wait(epfd, &pev, 1, 20000);
	ret = comp(rxcq, &c, &e);
	ok(r == 1 && !ret && !strcmp(buf, "wake"),
	   "client: the CQ's wait fd woke for the message");
	close(epfd);

	/* the server shuts down */
	send_one("bye", 4, 0);
	r = cm_event(&ev, cm, sizeof(cmb), NULL);
	ok(r >= (ssize_t)sizeof(*cm) && ev == FI_SHUTDOWN,
	   "client: FI_SHUTDOWN after the server's fi_shutdown");
	ret = (int)fi_send(ep, "x", 1, NULL, 0, NULL);
	ok(ret == -FI_ENOTCONN, "client: a send after it: FI_ENOTCONN (%d)",
	   ret);
	return 0;
}

int main(int argc, char **argv)
{
	int srv = argc == 3 && !strcmp(argv[1], "server");

	if (!srv && !(argc == 4 && !strcmp(argv[1], "client"))) {
		fprintf(stderr, "usage: fi_test server PORT | client ADDR PORT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* both ways of answering a read, with small buffers */
	setenv("FI_VMMC_DIRECT_READ", "65536", 1);
	printf("1..%d\n", srv ? 14 : 18);
	if (srv) {
		open_common(NULL, argv[2], FI_SOURCE);
		server(argv[2]);
	} else {
		open_common(argv[2], argv[3], 0);
		client(argv[2], argv[3]);
	}
	if (ep)
		fi_close(&ep->fid);
	if (pep)
		fi_close(&pep->fid);
	fi_close(&mr->fid);
	fi_close(&romr->fid);
	fi_close(&txcq->fid);
	fi_close(&rxcq->fid);
	ok(fi_close(&dom->fid) == 0, "domain closed: nothing left open");
	fi_close(&eq->fid);
	fi_close(&fab->fid);
	fi_freeinfo(info);
	free(buf);
	free(region);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:0 error:0\n",
	       n - fails, fails);
	return fails ? 1 : 0;
}
