/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Userspace shim: BIT() and friends live in the shim's kernel.h. */
#include "../kernel.h"
