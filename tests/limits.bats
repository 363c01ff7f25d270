#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# Limits: the send queue, the rate, the number of clients.
# Protocol tests: they run against $SERVER (chatd or chatd-select).

load helpers

@test "a client that stops reading is dropped; the others get everything" {
	start_server -r 0
	slow_reader_dropped
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

# welcome_from SOURCE: a client from SOURCE (another address of 127/8)
# is welcomed, and leaves at once; its address is in FROM_ADDR.
welcome_from() {
	run -0 "$TCPCAT" -N -s "$1" 127.0.0.1 "$TCP_PORT" </dev/null
	[[ "${lines[0]}" =~ ^Welcome,\ Client\ \(($1:[0-9]+)\)\.$ ]] || {
		echo "# from $1: got '${lines[0]}'" >&2
		return 1
	}
	FROM_ADDR=${BASH_REMATCH[1]}
}

@test "-a: an address over its limit is refused; another is welcomed; leaving frees a place" {
	start_server -a 2
	join a
	join b
	expect a "Client ($ADDR_b) connected"
	connect c
	expect c "error: too many connections from your address"
	expect_eof c
	# Another address is served as ever.
	welcome_from 127.0.0.2
	expect a "Client ($FROM_ADDR) connected"
	expect a "Client ($FROM_ADDR) left"
	# One leaves: the address may have one more, and only one.
	disconnect b
	expect a "Client ($ADDR_b) left"
	join d
	expect a "Client ($ADDR_d) connected"
	connect e
	expect e "error: too many connections from your address"
	expect_eof e
	say a "still fine"
	expect a '"still fine" received by the server'
	stop_server
}

@test "-a on a dual-stack listener: an IPv4 peer counts as its own address, IPv6 apart" {
	[ -e /proc/net/if_inet6 ] || skip "no IPv6 on this machine"
	launch "$SERVER" -b :: -p 0 -a 1
	# IPv4 peers arrive as ::ffff:127.0.0.x, whose first 64 bits are
	# all zero: counted by /64 like IPv6, they would all be one.
	join a
	run -0 "$TCPCAT" -N -s 127.0.0.2 127.0.0.1 "$TCP_PORT" </dev/null
	[[ "${lines[0]}" =~ ^Welcome,\ Client\ \(127\.0\.0\.2:[0-9]+\)\.$ ]]
	run -0 "$TCPCAT" -N -s ::1 ::1 "$TCP_PORT" </dev/null
	[[ "${lines[0]}" =~ ^Welcome,\ Client\ \(\[::1\]:[0-9]+\)\.$ ]]
	connect b
	expect b "error: too many connections from your address"
	expect_eof b
	stop_server
}

# on_workers N ADDR...: the clients at ADDR... are on N workers or more.
on_workers() {
	local n=$1 a
	shift
	for a in "$@"; do
		worker_of "$a"
	done | sort -u | wc -l | { read -r got; [ "$got" -ge "$n" ]; }
}

@test "-a counts an address across every worker, and a dead worker's clients leave it" {
	[ "$SERVER" = "$CHATD" ] || skip "chatd-select has one process"
	local k pid
	start_server -w 4 -a 3 -v
	join c1
	join c2
	join c3
	# The three are spread over workers: no worker alone has three, so
	# only a count shared by all of them can refuse the fourth.
	wait_for on_workers 2 "$ADDR_c1" "$ADDR_c2" "$ADDR_c3"
	connect c4
	expect c4 "error: too many connections from your address"
	expect_eof c4
	welcome_from 127.0.0.2
	# A worker killed with its clients: they no longer count.
	k=$(worker_of "$ADDR_c1")
	pid=$(worker_pid "$k")
	[ -n "$pid" ]
	kill -KILL "$pid"
	wait_for welcome_from 127.0.0.1
	stop_server
}

@test "client sockets have TCP keepalive on" {
	[ -r /proc/net/tcp ] || skip "no /proc/net/tcp"
	local hex
	start_server
	join a
	hex=$(printf '%04X' "$TCP_PORT")
	# The server's end: local port TCP_PORT, established (01); its
	# timer field is 02 (keepalive) where it would be 00 (none).
	awk -v p=":$hex" '$2 ~ p"$" && $4 == "01" { split($6, t, ":");
	    print t[1] }' /proc/net/tcp >"$BATS_TEST_TMPDIR/timers"
	[ "$(cat "$BATS_TEST_TMPDIR/timers")" = "02" ]
	stop_server
}

# whisper_flood N TEXT FD: N lines "/msg victim TEXT" to descriptor FD.
whisper_flood() {
	yes "/msg victim $2" | head -n "$1" >&"$3"
}

@test "20 clients whispering to one that reads nothing: it stays, they are told to wait" {
	local dir=$BATS_TEST_TMPDIR i v ok=0 refused n total
	local per=500 line t0 us most workers=()
	line=$(printf 'w%.0s' $(seq 1000))
	# chatd: senders on four workers, who must spend one budget.
	[ "$SERVER" = "$CHATD" ] && workers=(-w 4)
	start_server -r 0 -q 16k -m 64 "${workers[@]}"
	join victim
	say victim "/nick victim"
	expect victim "ok: you are now victim"
	for i in $(seq 1 20); do
		join "s$i"
		v=FD_s$i
		in_background cat <&"${!v}" >"$dir/s$i.out"
	done
	# 20 x 500 whispers of 1 KB, 10 MB in all, as fast as the server
	# reads them; the victim reads nothing meanwhile.
	t0=${EPOCHREALTIME//[!0-9]/}	# microseconds
	for i in $(seq 1 20); do
		v=FD_s$i
		in_background whisper_flood "$per" "$line" "${!v}"
	done
	wait_replies() {
		local f c
		for f in "$dir"/s*.out; do
			c=$(grep -cE '^(ok|error): ' "$f")
			[ "$c" -eq "$per" ] || return 1
		done
	}
	# One reply to each.
	DEADLINE=30 wait_for wait_replies
	us=$((${EPOCHREALTIME//[!0-9]/} - t0))
	# Nobody saw the victim dropped.
	[ -z "$(grep -h '^victim left' "$dir"/s*.out)" ]
	for i in $(seq 1 20); do
		n=$(grep -cx 'ok: sent to victim' "$dir/s$i.out" || true)
		refused=$(grep -cx 'error: victim is receiving too much, try again later' "$dir/s$i.out" || true)
		# Every sender was told to wait at least once.
		[ "$refused" -ge 1 ]
		ok=$((ok + n))
	done
	# No more got through than one budget allows over the whole flood:
	# a burst of 4 KiB (a quarter of -q 16k) and 32 KiB/s, each whisper
	# charged at least the 1,031 bytes of "Client (127.0.0.1:1) whispers:
	# TEXT".  A budget per worker would let up to four times as many by.
	most=$(((4096 + 32768 * us / 1000000) / 1031 + 1))
	echo "# $ok whispers acknowledged in $((us / 1000)) ms (at most $most)" >&3
	[ "$ok" -le "$most" ]
	# The victim still talks, and gets exactly the whispers that were
	# acknowledged.
	v=FD_victim
	in_background cat <&"${!v}" >"$dir/victim.out"
	say victim "still here"
	wait_for grep -qx '"still here" received by the server' "$dir/victim.out"
	count_whispers() {
		total=$(grep -c ' whispers: w*$' "$dir/victim.out")
		[ "$total" -eq "$ok" ]
	}
	wait_for count_whispers
	[ "$ok" -ge 1 ]
	stop_server
}
