// SPDX-License-Identifier: MIT
/*
 * Description: a program of a user's own, built against an installed
 * libvmmc with nothing but `pkg-config --cflags --libs libvmmc` (see
 * selftests/install/check.sh): open an endpoint, export a buffer to this
 * node, import it on the same endpoint, send bytes into it with
 * deliberate update, and check that they arrived, with the NOTIFY that
 * says so. Exit 0 pass, 1 fail, 77 skip (no /dev/vmmc0).
 */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vmmc/vmmc.h>
#include <vmmc/vmmc_sock.h>	/* only to see that it compiles, installed */

#define LEN	65536
#define NAME	0x48454c4fu	/* "HELO" */

static int fail(const char *what, int err)
{
	printf("not ok - hello_vmmc: %s: %s\n", what, strerror(-err));
	return 1;
}

int main(void)
{
	uint32_t export_id, import_id;
	unsigned char *dst, *src;
	struct vmmc_cqe cqe;
	struct vmmc_nqe nqe;
	struct vmmc_ep ep;
	uint64_t len = 0;
	size_t i;
	int err;

	err = vmmc_ep_open(&ep, NULL);
	if (err) {
		printf("%s - hello_vmmc: open /dev/vmmc0: %s\n",
		       err == -ENOENT ? "ok # SKIP" : "not ok", strerror(-err));
		return err == -ENOENT ? 77 : 1;
	}
	dst = mmap(NULL, 2 * LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return fail("mmap", -errno);
	src = dst + LEN;
	memset(dst, 0, LEN);
	for (i = 0; i < LEN; i++)
		src[i] = (unsigned char)(i * 7 + 1);

	err = vmmc_export(&ep, dst, LEN, NAME, 1ULL << ep.info.node_id,
			  &export_id);
	if (err)
		return fail("export", err);
	err = vmmc_import(&ep, ep.info.node_id, NAME, &import_id, &len);
	if (err)
		return fail("import", err);
	if (len != LEN) {
		printf("not ok - hello_vmmc: import length %llu, want %d\n",
		       (unsigned long long)len, LEN);
		return 1;
	}
	err = vmmc_send(&ep, src, LEN, import_id, 0, VMMC_SQF_NOTIFY, 42);
	if (err)
		return fail("send", err);
	err = vmmc_wait_cqe(&ep, &cqe, 20000);
	if (err)
		return fail("wait for the completion", err);
	if (cqe.status != VMMC_ST_OK || cqe.user_data != 42) {
		printf("not ok - hello_vmmc: completion status %s, user_data %llu\n",
		       vmmc_status_str(cqe.status),
		       (unsigned long long)cqe.user_data);
		return 1;
	}
	err = vmmc_wait_nqe(&ep, &nqe, 20000);
	if (err)
		return fail("wait for the notification", err);
	if (memcmp(dst, src, LEN)) {
		printf("not ok - hello_vmmc: the bytes differ\n");
		return 1;
	}
	vmmc_unimport(&ep, import_id);
	vmmc_unexport(&ep, export_id);
	vmmc_ep_close(&ep);
	printf("ok - hello_vmmc: %d bytes sent to node %u and back, notified\n",
	       LEN, ep.info.node_id);
	return 0;
}
