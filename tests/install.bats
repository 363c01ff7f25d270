#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# make install / uninstall into a staging directory.

load helpers

@test "make install puts the programs and man pages under DESTDIR" {
	local d=$BATS_TEST_TMPDIR/stage
	run -0 make -s -C "$TOP" install PREFIX=/usr/local DESTDIR="$d"
	local f
	for f in sbin/chatd sbin/chatd-select bin/chatc bin/chatbench; do
		[ -x "$d/usr/local/$f" ] || { echo "# missing $f" >&2; return 1; }
	done
	for f in man8/chatd.8 man8/chatd-select.8 man1/chatc.1 man1/chatbench.1; do
		[ -f "$d/usr/local/share/man/$f" ] || { echo "# missing $f" >&2; return 1; }
	done
	run -0 "$d/usr/local/sbin/chatd" -V
	[[ "$output" == "chatd "* ]]
	if command -v mandoc >/dev/null; then
		run -0 mandoc -Tascii "$d/usr/local/share/man/man8/chatd.8"
		[[ "$output" == *"pre-forking multi-user chat daemon"* ]]
	fi
	run -0 make -s -C "$TOP" uninstall PREFIX=/usr/local DESTDIR="$d"
	[ -z "$(find "$d" -type f)" ]
}

@test "the man pages pass mandoc -Tlint" {
	command -v mandoc >/dev/null || skip "mandoc is not installed"
	run -0 mandoc -Tlint -Wwarning "$TOP"/man/*.[18]
	[ -z "$output" ]
}
