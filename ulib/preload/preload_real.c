// SPDX-License-Identifier: MIT
/*
 * preload_real.c - the real libc entry points of the calls the shim
 * interposes (preload_real.h lists them), found with dlsym(RTLD_NEXT) at
 * the first REAL() call: before main if a constructor already calls one.
 */

#include "preload_loc.h"

#define VP_REAL(name, ret, args)	ret (*real_##name) args;
#include "preload_real.h"
#undef VP_REAL

void vp_resolve(void)
{
	static const struct {
		const char *name;
		void *ptr;	/* &real_<name> */
	} reals[] = {
#define VP_REAL(name, ret, args)	{ #name, &real_##name },
#include "preload_real.h"
#undef VP_REAL
	};
	size_t i;

	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		void *p = dlsym(RTLD_NEXT, reals[i].name);

		memcpy(reals[i].ptr, &p, sizeof(p));
	}
	if (!real_fcntl64)
		real_fcntl64 = real_fcntl;
}
