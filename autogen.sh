#!/bin/sh
# Bootstrap the autotools build: generates ./configure and Makefile.in.
# Then:  mkdir -p build && cd build && ../configure && make
set -eu
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf --force --install --warnings=all "$@"
