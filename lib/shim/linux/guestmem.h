/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Userspace shim: <linux/guestmem.h> is mm/guestmem.h, as in the kernel tree. */
#include "../../../mm/guestmem.h"
