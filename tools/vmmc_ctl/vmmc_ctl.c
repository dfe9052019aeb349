// SPDX-License-Identifier: GPL-2.0
/*
 * vmmc_ctl.c - main: options and the object dispatch.
 *
 *   vmmc_ctl [OPTIONS] OBJECT { COMMAND | help }
 *   vmmc_ctl [OPTIONS] show            (same as: dev show)
 *
 * Exit status: 0 success, 1 the request failed (module not loaded, no such
 * NIC, ...), 2 bad usage. Errors go to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmmc_ctl.h"
#include "../../uapi/vmmc.h"

#define VMMC_CTL_VERSION "0.1"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmmc_ctl [OPTIONS] OBJECT { COMMAND | help }\n"
		"       vmmc_ctl [OPTIONS] show\n"
		"where  OBJECT := { dev | ep | export | import | help }\n"
		"       OPTIONS := { -V[ersion] | -j[son] | -p[retty] | -d[etails] | -h[elp] }\n"
		"See vmmc_ctl(8).\n");
}

static int cmd_help(struct ctl *ctl, int argc, char **argv)
{
	usage(stdout);
	return 0;
}

bool ctl_matches(const char *arg, const char *keyword)
{
	size_t n = strlen(arg);

	return n && n <= strlen(keyword) && !strncmp(arg, keyword, n);
}

/* The entry of @cmds that @arg names by prefix, or NULL. */
const struct ctl_cmd *ctl_find(const struct ctl_cmd *cmds, const char *arg)
{
	const struct ctl_cmd *c;

	for (c = cmds; c->name; c++)
		if (ctl_matches(arg, c->name))
			return c;
	return NULL;
}

/*
 * Run the entry of @cmds that argv[0] names (by prefix); no argument runs
 * the first entry. An unknown keyword is a usage error (exit 2).
 */
int ctl_exec(struct ctl *ctl, const struct ctl_cmd *cmds, int argc,
	     char **argv, const char *what)
{
	const struct ctl_cmd *c;

	if (argc < 1)
		return cmds[0].fn(ctl, 0, argv);
	c = ctl_find(cmds, argv[0]);
	if (c)
		return c->fn(ctl, argc - 1, argv + 1);
	fprintf(stderr, "vmmc_ctl: unknown %s \"%s\"; try \"vmmc_ctl help\"\n",
		what, argv[0]);
	return 2;
}

static int cmd_show(struct ctl *ctl, int argc, char **argv)
{
	return dev_show(ctl, argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version",	no_argument, NULL, 'V' },
		{ "json",	no_argument, NULL, 'j' },
		{ "pretty",	no_argument, NULL, 'p' },
		{ "details",	no_argument, NULL, 'd' },
		{ "help",	no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct ctl_cmd objs[] = {
		{ "show",	cmd_show },
		{ "dev",	cmd_dev },
		{ "ep",		cmd_ep },
		{ "export",	cmd_export },
		{ "import",	cmd_import },
		{ "help",	cmd_help },
		{ NULL, NULL }
	};
	struct ctl ctl = { 0 };
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+Vjpdh", opts, NULL)) != -1) {
		switch (opt) {
		case 'V':
			printf("vmmc_ctl %s (NIC version %d, ABI %d)\n",
			       VMMC_CTL_VERSION, VMMC_NIC_VERSION,
			       VMMC_ABI_VERSION);
			return 0;
		case 'j':
			ctl.json = true;
			break;
		case 'p':
			ctl.pretty = true;
			break;
		case 'd':
			ctl.details = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	if (argc > 0 && ctl_matches(argv[0], "help"))
		return cmd_help(&ctl, 0, NULL);
	/* a usage error is one even when the module is not loaded */
	if (argc > 0 && !ctl_find(objs, argv[0])) {
		fprintf(stderr, "vmmc_ctl: unknown object \"%s\"; try \"vmmc_ctl help\"\n",
			argv[0]);
		return 2;
	}
	rc = ctl_nl_open(&ctl);
	if (rc)
		return rc;
	rc = ctl_exec(&ctl, objs, argc, argv, "object");
	ctl_nl_close(&ctl);
	return rc;
}
