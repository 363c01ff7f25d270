#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# Limits: the send queue, the rate, the number of clients.
# Protocol tests: they run against $SERVER (chatd or chatd-select).

load helpers

@test "a client that stops reading is dropped; the others get everything" {
	local dir=$BATS_TEST_TMPDIR v
	start_server -r 0 -q 4k
	join s
	join g
	join slow
	expect s "Client ($ADDR_g) connected"
	expect s "Client ($ADDR_slow) connected"
	expect g "Client ($ADDR_slow) connected"
	# s and g drain their sockets into files; slow never reads.
	v=FD_s; in_background cat <&"${!v}" >"$dir/s.out"
	v=FD_g; in_background cat <&"${!v}" >"$dir/g.out"
	# 8 MB of broadcast: more than the kernel buffers ahead of slow.
	v=FD_s
	flood 8000 >&"${!v}"
	say s "done"
	wait_for grep -q "^Client ($ADDR_s) said: done\$" "$dir/g.out"
	grep -qx "Client ($ADDR_slow) left (send queue exceeded)" "$dir/g.out"
	[ "$(grep -c "^Client ($ADDR_s) said: x*\$" "$dir/g.out")" -eq 8000 ]
	wait_for grep -q '^"done" received by the server$' "$dir/s.out"
	[ "$(grep -c '^"x*" received by the server$' "$dir/s.out")" -eq 8000 ]
	grep -qx "Client ($ADDR_slow) left (send queue exceeded)" "$dir/s.out"
	stop_server
}

@test "a client over its rate is slowed, never dropped, and loses nothing" {
	start_server -r 20
	join a
	local v=FD_a i start=$SECONDS
	# 80 lines at once: a burst of 40, then 20 a second.
	seq 1 80 | sed 's/^/r /' >&"${!v}"
	for i in $(seq 1 80); do
		expect a "\"r $i\" received by the server"
	done
	# 40 lines past the burst at 20 a second take at least 2 s.
	[ $((SECONDS - start)) -ge 1 ]
	stop_server
}

@test "-m: a client beyond the limit gets 'error: server full'" {
	start_server -m 2
	join a
	join b
	expect a "Client ($ADDR_b) connected"
	connect c
	expect c "error: server full"
	expect_eof c
	# The others are unaffected, and the slot frees when one leaves.
	say a "still fine"
	expect a '"still fine" received by the server'
	disconnect b
	expect a "Client ($ADDR_b) left"
	join d
	stop_server
}

@test "the client limit is clamped to the descriptor limit" {
	[ "$SERVER" = "$CHATD" ] || skip "chatd-select's limit is FD_SETSIZE (select.bats)"
	launch with_nofile 40 "$CHATD" -b 127.0.0.1 -p 0 -w 1 -m 1000
	grep -qx "chatd: clients limited to 8 by the descriptor limit" \
	    "$BATS_TEST_TMPDIR/server.log"
	local i
	for i in 1 2 3 4 5 6 7 8; do
		join "c$i"
	done
	connect c9
	expect c9 "error: server full"
	stop_server
}
