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
	# The unit, with the path chatd was installed under.
	f=$d/usr/local/lib/systemd/system/chatd.service
	[ -f "$f" ]
	[ "$(grep '^ExecStart=' "$f")" = "ExecStart=/usr/local/sbin/chatd -b :: -p 8080" ]
	# Its other lines are valid (verify wants ExecStart to exist).
	if command -v systemd-analyze >/dev/null; then
		mkdir "$BATS_TEST_TMPDIR/unit"
		sed 's|^ExecStart=.*|ExecStart=/bin/true|' "$f" \
		    >"$BATS_TEST_TMPDIR/unit/chatd.service"
		run -0 systemd-analyze verify --man=no \
		    "$BATS_TEST_TMPDIR/unit/chatd.service"
		[ -z "$output" ]
	fi
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

@test "make install puts the systemd unit where SYSTEMDUNITDIR says, or nowhere" {
	local d=$BATS_TEST_TMPDIR/stage
	run -0 make -s -C "$TOP" install PREFIX=/usr DESTDIR="$d" \
	    SYSTEMDUNITDIR=/lib/systemd/system
	[ "$(grep '^ExecStart=' "$d/lib/systemd/system/chatd.service")" = "ExecStart=/usr/sbin/chatd -b :: -p 8080" ]
	run -0 make -s -C "$TOP" uninstall PREFIX=/usr DESTDIR="$d" \
	    SYSTEMDUNITDIR=/lib/systemd/system
	[ -z "$(find "$d" -type f)" ]
	run -0 make -s -C "$TOP" install DESTDIR="$d" SYSTEMDUNITDIR=
	[ -z "$(find "$d" -name chatd.service)" ]
}

@test "every source file carries the copyright line; LICENSE is there" {
	local f missing=
	[ -f "$TOP/LICENSE" ]
	for f in "$TOP"/common/*.[ch] "$TOP"/server/*.[ch] "$TOP"/client/*.[ch] \
	    "$TOP"/tests/*.c "$TOP"/tests/unit/*.[ch] "$TOP"/tests/*.bats \
	    "$TOP"/tests/*.bash "$TOP"/tests/run "$TOP"/man/*.[18] \
	    "$TOP"/Makefile "$TOP"/contrib/*; do
		head -n 2 "$f" | grep -q 'Copyright (c) 2026 The chatd authors' ||
		    missing+=" ${f#"$TOP"/}"
	done
	[ -z "$missing" ] || { echo "# no copyright line:$missing" >&2; return 1; }
}

@test "the version is written once, in common/version.h" {
	run -0 grep -rn '#define VERSION[[:space:]]' "$TOP"/common "$TOP"/server "$TOP"/client
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"common/version.h:"* ]]
}

# make_run_ready: make run has printed its connect line.
make_run_ready() {
	grep -q '^connect with: ' "$BATS_TEST_TMPDIR/run.out"
}

@test "make run: chatd in the foreground, then one line telling how to connect" {
	local out=$BATS_TEST_TMPDIR/run.out port master
	make -s --no-print-directory -C "$TOP" run PORT=0 WORKERS=1 >"$out" 2>&1 3>&- &
	SERVER_PID=$!
	wait_for make_run_ready
	port=$(sed -n 's/.* tcp=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$out")
	[ "$(sed -n 1p "$out")" = "chatd: master: ready tcp=127.0.0.1:$port udp=127.0.0.1:$port workers=1" ] ||
	    { sed 's/^/# /' "$out" >&2; return 1; }
	[ "$(sed -n 2p "$out")" = "connect with: ./chatc 127.0.0.1 $port" ]
	master=$("$CHATD" -S -p "$port" | sed -n 's/.*master pid \([0-9]*\),.*/\1/p')
	kill -TERM "$master"
	wait_for not_running "$SERVER_PID"
	run -0 wait "$SERVER_PID"
	SERVER_PID=
	[ "$(tail -n 1 "$out")" = "chatd: master: stopped" ]
}
