// SPDX-License-Identifier: GPL-2.0
/*
 * utils.c - the generic netlink connection and the printer.
 *
 * The printer takes one call per field and emits either text (with the
 * given printf format) or JSON (key: value), like iproute2's print_*():
 * JSON keys are stable snake_case API.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "vmmc_ctl.h"
#include "../../uapi/vmmc_nl.h"

int ctl_nl_open(struct ctl *ctl)
{
	int err;

	ctl->sk = nl_socket_alloc();
	if (!ctl->sk) {
		fprintf(stderr, "vmmc_ctl: out of memory\n");
		return 1;
	}
	err = genl_connect(ctl->sk);
	if (err) {
		fprintf(stderr, "vmmc_ctl: cannot open generic netlink: %s\n",
			nl_geterror(err));
		goto out_free;
	}
	ctl->family = genl_ctrl_resolve(ctl->sk, VMMC_NL_FAMILY_NAME);
	if (ctl->family < 0) {
		fprintf(stderr,
			"vmmc_ctl: the vmmc module is not loaded (no \"%s\" generic netlink family)\n",
			VMMC_NL_FAMILY_NAME);
		goto out_free;
	}
	return 0;

out_free:
	nl_socket_free(ctl->sk);
	ctl->sk = NULL;
	return 1;
}

void ctl_nl_close(struct ctl *ctl)
{
	if (ctl->sk)
		nl_socket_free(ctl->sk);
	ctl->sk = NULL;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_sep(struct ctl *ctl)
{
	if (!ctl->first[ctl->depth])
		putchar(',');
	ctl->first[ctl->depth] = false;
	if (ctl->pretty) {
		putchar('\n');
		printf("%*s", 2 * ctl->depth, "");
	}
}

static void json_key(struct ctl *ctl, const char *key)
{
	json_sep(ctl);
	if (key) {
		json_str(key);
		printf(ctl->pretty ? ": " : ":");
	}
}

static void json_open(struct ctl *ctl, const char *key, char c)
{
	if (ctl->depth)
		json_key(ctl, key);
	putchar(c);
	if (ctl->depth < 15)
		ctl->depth++;
	ctl->first[ctl->depth] = true;
}

static void json_close(struct ctl *ctl, char c)
{
	bool empty = ctl->first[ctl->depth];

	if (ctl->depth)
		ctl->depth--;
	if (ctl->pretty && !empty) {
		putchar('\n');
		printf("%*s", 2 * ctl->depth, "");
	}
	putchar(c);
	if (!ctl->depth)
		putchar('\n');
}

void ctl_open_array(struct ctl *ctl)
{
	if (ctl->json)
		json_open(ctl, NULL, '[');
}

void ctl_close_array(struct ctl *ctl)
{
	if (ctl->json)
		json_close(ctl, ']');
}

void ctl_open_object(struct ctl *ctl, const char *key)
{
	if (ctl->json)
		json_open(ctl, key, '{');
}

void ctl_close_object(struct ctl *ctl)
{
	if (ctl->json)
		json_close(ctl, '}');
}

void ctl_print_str(struct ctl *ctl, const char *key, const char *fmt,
		   const char *val)
{
	if (ctl->json) {
		json_key(ctl, key);
		json_str(val);
	} else if (fmt) {
		printf(fmt, val);
	}
}

void ctl_print_u64(struct ctl *ctl, const char *key, const char *fmt,
		   uint64_t val)
{
	if (ctl->json) {
		json_key(ctl, key);
		printf("%llu", (unsigned long long)val);
	} else if (fmt) {
		printf(fmt, (unsigned long long)val);
	}
}

void ctl_print_text(struct ctl *ctl, const char *text)
{
	if (!ctl->json)
		fputs(text, stdout);
}
