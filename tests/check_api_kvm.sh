#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The public-API suite (tests/check_api) on KVM files in split mode, run by
# make check from the build directory: where /dev/kvm exists, check_api
# --kvm-mode split (which itself skips, saying why, when KVM offers no
# KVM_X86_SW_PROTECTED_VM or no guest_memfd); without /dev/kvm, exit 77
# (skipped) with the reason.  GUESTMEM_CHECK_API overrides the suite's path.
# In-place mode needs guestmem's kernel series: the kernel rig runs both
# modes (kernel-patch/rig/tests.list).
set -u

api=${GUESTMEM_CHECK_API:-./tests/check_api}
if [ ! -e /dev/kvm ]; then
	echo "check_api_kvm: SKIP: no /dev/kvm: check_api --kvm-mode split needs KVM"
	exit 77
fi
exec "$api" --kvm-mode split
