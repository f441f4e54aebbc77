/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Userspace shim: the kernel environment of mm/.  It carries the same
 * include guard as mm/guestmem_kernel.h and is force-included (-include)
 * before every mm/ file, so mm/'s own #include "guestmem_kernel.h" is a
 * no-op in userspace and mm/ compiles unchanged against these headers.
 */
#ifndef _MM_GUESTMEM_KERNEL_H
#define _MM_GUESTMEM_KERNEL_H

#include "kernel.h"
#include "slab.h"
#include "workqueue.h"
#include "xarray.h"
#include "bitmap.h"
#include "folio.h"
#include "hugetlb.h"

#endif /* _MM_GUESTMEM_KERNEL_H */
