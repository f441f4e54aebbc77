#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Command 1 of the README: install the build dependencies (Debian), bootstrap,
# configure into ./build, build, and run the main job.  Idempotent: a second
# run only rebuilds what changed.
#
# Env: GUESTMEM_CONFIGURE_FLAGS  configure arguments for a fresh ./build
#                                (default: --enable-debug)
#      GM_JOBS                   parallel make jobs (default 2)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$GM_ROOT"

gm_section "packages"
gm_install_packages

gm_section "bootstrap and configure ($GM_BUILD)"
gm_bootstrap
gm_ensure_build

gm_section "build"
gm_make "$GM_BUILD"

gm_section "main job"
# The guestmem tool: what this machine offers, then a confidential guest's
# boot and I/O (1 GiB on 2M pages).  As root the tool reserves the hugetlb
# pages itself and restores nr_hugepages; otherwise it falls back to
# ordinary memory with a note.
"$GM_BUILD/tools/guestmem" info || gm_die "guestmem info failed"
"$GM_BUILD/tools/guestmem" run coco-boot || gm_die "guestmem run coco-boot failed"
