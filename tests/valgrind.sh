#!/usr/bin/env bash
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# tests/valgrind.sh SERVER [ARGS...] -- one scripted chat session under
# valgrind: the server and two chatc clients in pipe mode, each under
# `valgrind --leak-check=full --error-exitcode=1`.  The clients join,
# talk, rename, list, whisper and leave; then the server gets SIGTERM.
# chatc -u asks the UDP service once.  Passes if every process valgrind watched (chatd's workers included:
# a fork is followed) reports no error and no leak, every program
# exits 0, and the clients saw what the session says they should.
#
#	CHATC=./chatc VALGRIND_DEADLINE=60 tests/valgrind.sh ./chatd -w 1
#
# Every wait is bounded by VALGRIND_DEADLINE seconds (valgrind is slow).
set -u

CHATC=${CHATC:-./chatc}
DEADLINE=${VALGRIND_DEADLINE:-60}
name=$(basename "$1")
dir=$(mktemp -d) || exit 1
srv_pid=
bob_pid=
cleanup() {
	exec 7>&- 2>/dev/null
	for p in $bob_pid $srv_pid; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ "${keep:-0}" = 1 ]; then
		echo "valgrind: logs kept in $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT

fail() {
	echo "valgrind: $name: $*" >&2
	for f in "$dir"/*.out "$dir"/server.log; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
	done
	keep=1
	exit 1
}

# wait_for CMD...: poll CMD until true, or fail after DEADLINE seconds.
wait_for() {
	local end=$((SECONDS + DEADLINE))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || fail "timed out waiting for: $*"
		sleep 0.1
	done
}

# vg TAG: the valgrind command line, in VG, for the process named TAG
# (a bare array, so that $! of a background job is valgrind itself).
vg() {
	VG=(valgrind -q --leak-check=full --error-exitcode=1
	    --log-file="$dir/vg-$1.%p.log")
}

vg server
"${VG[@]}" "$@" -b 127.0.0.1 -p 0 2>"$dir/server.log" &
srv_pid=$!
wait_for grep -q ': ready tcp=' "$dir/server.log"
port=$(sed -n 's/.* tcp=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$dir/server.log")
[ -n "$port" ] || fail "no port in the ready line"

# bob stays connected through alice's session: his input is a FIFO.
mkfifo "$dir/bob.in" || fail "mkfifo"
vg bob
"${VG[@]}" "$CHATC" 127.0.0.1 "$port" <"$dir/bob.in" >"$dir/bob.out" \
    2>"$dir/bob.err" &
bob_pid=$!
exec 7>"$dir/bob.in"
echo "/nick bob" >&7
wait_for grep -q '^ok: you are now bob$' "$dir/bob.out"

vg alice
printf '%s\n' "/nick alice" "hello from alice" "/who" "/msg bob psst" \
    "/nick alice2" "/quit done" |
    "${VG[@]}" "$CHATC" 127.0.0.1 "$port" >"$dir/alice.out" \
    2>"$dir/alice.err" || fail "alice: chatc exited with status $?"

wait_for grep -q '^alice2 left (done)$' "$dir/bob.out"

# The UDP service, asked by chatc -u.
vg udp
printf '%s\n' "what time is it" exit |
    "${VG[@]}" "$CHATC" -u 127.0.0.1 "$port" >"$dir/udp.out" \
    2>"$dir/udp.err" || fail "chatc -u exited with status $?"
grep -q '^Server response: Message received at ' "$dir/udp.out" ||
    fail "chatc -u got no timestamp"
echo "goodbye from bob" >&7
exec 7>&-
wait "$bob_pid" || fail "bob: chatc exited with status $?"
bob_pid=

kill -TERM "$srv_pid"
end=$((SECONDS + DEADLINE))
while kill -0 "$srv_pid" 2>/dev/null; do
	[ "$SECONDS" -lt "$end" ] || fail "server did not stop"
	sleep 0.1
done
wait "$srv_pid"
rc=$?
srv_pid=
[ "$rc" -eq 0 ] || fail "server exited with status $rc"

# What the session should have shown each side.
for want in 'ok: you are now alice' '"hello from alice" received by the server' \
    'who: 2 connected' 'ok: sent to bob' 'ok: you are now alice2' 'Goodbye.'; do
	grep -qxF "$want" "$dir/alice.out" || fail "alice did not get: $want"
done
for want in 'alice said: hello from alice' 'alice whispers: psst' \
    'alice is now known as alice2' 'alice2 left (done)'; do
	grep -qxF "$want" "$dir/bob.out" || fail "bob did not get: $want"
done

# valgrind -q writes only errors and leaks: every log must be empty.
logs=0
for f in "$dir"/vg-*.log; do
	logs=$((logs + 1))
	[ -s "$f" ] && { cat "$f" >&2; fail "valgrind reported in $(basename "$f")"; }
done
echo "valgrind: $name session clean ($logs processes under valgrind: server, workers, 3 chatc)"
