#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel base's guard (kernel-patch/scripts/base.sh), run by make check
# on a small fake base in a temporary GUESTMEM_CACHE (no download): a tree
# that matches its manifest is accepted, and every way of changing it (a
# file's content, a file added or removed, a symlink retargeted, a file
# hard-linked from elsewhere, as "cp -al" does) makes "base.sh path" and
# "base.sh verify" refuse it, naming the file.
set -u

BASE=${srcdir:-.}/kernel-patch/scripts/base.sh
passed=0
failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check_base.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
export GUESTMEM_CACHE=$tmp/cache
tree=$GUESTMEM_CACHE/linux-7.2

pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

make_base() {
	rm -rf "$GUESTMEM_CACHE"
	mkdir -p "$tree/mm" "$tree/virt/kvm"
	echo 'all:' >"$tree/Makefile"
	echo 'int a;' >"$tree/mm/a.c"
	echo 'int b;' >"$tree/virt/kvm/kvm_mm.h"
	ln -s ../mm/a.c "$tree/virt/a.c"
	{
		echo "deb fake.deb 0"
		bash "$BASE" inventory "$tree"
	} >"$GUESTMEM_CACHE/linux-7.2.manifest"
}

# expect_refused NAME WHAT: path and verify both fail and name WHAT.
expect_refused() {
	local name=$1 what=$2 out rc
	out=$(bash "$BASE" path 2>&1)
	rc=$?
	if [ "$rc" -ne 1 ]; then
		fail "$name: base.sh path exited $rc, expected 1"
	elif ! grep -qF -- "$what" <<<"$out"; then
		fail "$name: base.sh path did not say '$what':"
		sed 's/^/    | /' <<<"$out"
	elif grep -qx "$tree" <<<"$out"; then
		fail "$name: base.sh path printed the tree although it refused it"
	else
		pass "$name: refused ($what)"
	fi
	bash "$BASE" verify >/dev/null 2>&1 && fail "$name: base.sh verify accepted it"
}

make_base
if [ "$(bash "$BASE" path 2>/dev/null)" = "$tree" ] && bash "$BASE" verify 2>/dev/null; then
	pass "an intact base is accepted"
else
	fail "an intact base is refused"
	bash "$BASE" verify
fi

make_base
echo 'int x;' >"$tree/mm/a.c"		# same size, other content
expect_refused "content" "changed: ./mm/a.c"

make_base
echo 'int c;' >"$tree/mm/c.c"
expect_refused "added file" "added: ./mm/c.c"

make_base
rm "$tree/virt/kvm/kvm_mm.h"
expect_refused "removed file" "missing: ./virt/kvm/kvm_mm.h"

make_base
ln -sfn ../virt/kvm/kvm_mm.h "$tree/virt/a.c"
expect_refused "symlink" "./virt/a.c"

make_base
ln "$tree/virt/kvm/kvm_mm.h" "$tmp/build-copy.h"	# a hard-linked build tree
expect_refused "hard link" "hard-linked from elsewhere: ./virt/kvm/kvm_mm.h"
rm -f "$tmp/build-copy.h"

make_base
rm "$GUESTMEM_CACHE/linux-7.2.manifest"
if out=$(bash "$BASE" verify 2>&1); then
	fail "a base without a manifest is accepted"
elif grep -q 'no manifest' <<<"$out"; then
	pass "a base without a manifest is refused"
else
	fail "a base without a manifest: unclear message: $out"
fi

total=$((passed + failed))
echo "$((passed * 100 / total))%: Checks: $total, Failures: $failed, Errors: 0"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
