// SPDX-License-Identifier: LGPL-2.1-or-later
/* The fuzzer's view below the public API (fuzz_hooks.h). */
#include "../../lib/libguestmem.h"

#include "fuzz_hooks.h"

int fuzz_check_file(struct guestmem_file *file, const char **why)
{
	return hgmem_check_file(file->gf, why);
}

unsigned long fuzz_warn_count(void)
{
	return shim_warn_count();
}

const char *fuzz_last_warning(void)
{
	return shim_last_warning();
}
