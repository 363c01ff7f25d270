#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# Limits: the send queue, the rate, the number of clients.
# Protocol tests: they run against $SERVER (chatd or chatd-select).

load helpers

@test "a client that stops reading is dropped; the others get everything" {
	local dir=$BATS_TEST_TMPDIR v
	start_server -r 0
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
	# -r 10: a burst of 20 lines, then 10 a second.
	local rate=10 burst=20 n=50 v=FD_a i t0 us
	start_server -r "$rate"
	join a
	# 50 lines at once.  Whatever the load, by the time the i-th
	# acknowledgment is read the server can have let no more than the
	# burst and rate * elapsed lines through (+ 1 for rounding): with
	# no limit all 50 arrive at once, with it the last takes 3 s.
	t0=${EPOCHREALTIME//[!0-9]/}	# microseconds
	seq 1 "$n" | sed 's/^/r /' >&"${!v}"
	for ((i = 1; i <= n; i++)); do
		expect a "\"r $i\" received by the server"
		us=$((${EPOCHREALTIME//[!0-9]/} - t0))
		if ((i * 1000000 > (burst + 1) * 1000000 + rate * us)); then
			echo "# ack $i after $us us: faster than $rate/s" >&2
			return 1
		fi
	done
	# Slowed, not dropped: it is still served.
	say a "after"
	expect a '"after" received by the server'
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

# unsent_bytes PORT PEER: the bytes the server's socket on PORT still
# holds for PEER (ADDR:PORT), whatever state it is in.
unsent_bytes() {
	ss -tnH state all "( sport = :$1 )" |
	    awk -v peer="$2" '$5 == peer { s += $3 } END { print s + 0 }'
}

@test "a client dropped for its send queue is reset: its socket holds nothing" {
	command -v ss >/dev/null || skip "ss is not installed (iproute2)"
	local dir=$BATS_TEST_TMPDIR v
	start_server -r 0 -q 64k
	join s
	join slow
	expect s "Client ($ADDR_slow) connected"
	v=FD_s; in_background cat <&"${!v}" >"$dir/s.out"
	# 4 MB of broadcast: far more than slow's queue and socket hold.
	v=FD_s
	flood 4000 >&"${!v}"
	wait_for grep -qx "Client ($ADDR_slow) left (send queue exceeded)" \
	    "$dir/s.out"
	say s "done"
	wait_for grep -q '^"done" received by the server$' "$dir/s.out"
	# slow still holds its end open, and reads nothing: without a
	# reset, the server's closed socket would keep what it had queued.
	[ "$(unsent_bytes "$TCP_PORT" "$ADDR_slow")" -eq 0 ] || {
		ss -tn state all "( sport = :$TCP_PORT )" >&2; return 1; }
	stop_server
}
