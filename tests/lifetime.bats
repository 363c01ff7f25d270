#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# A client's lifetime in chatd's workers: several clients ending in one
# round, a client dropped while its worker is far behind in the ring,
# and a listener that must come back after any of it.

load helpers

# burst N: open N connections from one process, read each one's first
# line (a welcome or "error: server full"), then exit, so that every
# connection still open closes at the same instant and the server sees
# them leave in one round.  BURST_WELCOMED and BURST_REFUSED count.
burst() {
	local out=$BATS_TEST_TMPDIR/burst.out
	(
		fds=()
		for i in $(seq 1 "$1"); do
			exec {fd}<>"/dev/tcp/127.0.0.1/$TCP_PORT" || exit 1
			fds+=("$fd")
		done
		for fd in "${fds[@]}"; do
			IFS= read -r -t "$DEADLINE" -u "$fd" line || line=none
			echo "$line"
		done
	) >"$out" 3>&-
	BURST_WELCOMED=$(grep -c '^Welcome, Client (' "$out" || true)
	BURST_REFUSED=$(grep -cx 'error: server full' "$out" || true)
}

# newcomer NAME: a client connecting now is welcomed within the deadline.
newcomer() {
	connect "$1" || return 1
	expect_welcome "$1" || {
		echo "# $1 was not welcomed: the listener is deaf" >&2
		return 1
	}
	disconnect "$1"
}

# deaf_check WORKERS: bursts of clients leaving together, then a newcomer.
deaf_check() {
	local cycle
	start_server -w "$1"
	for cycle in 1 2 3 4 5; do
		burst 40
		[ "$BURST_WELCOMED" -eq 40 ] || {
			echo "# cycle $cycle: $BURST_WELCOMED of 40 welcomed" >&2
			return 1
		}
		newcomer "n$cycle"
	done
	stop_server
}

@test "clients leaving in one round leave the listener on (-w 1)" {
	deaf_check 1
}

@test "clients leaving in one round leave the listener on (-w 2)" {
	deaf_check 2
}

@test "clients leaving in one round leave the listener on (-w 4)" {
	deaf_check 4
}

@test "refusals at -m, then everyone leaving at once, leave the listener on" {
	local w
	for w in 1 2 4; do
		start_server -w "$w" -m 3
		burst 6
		[ "$BURST_WELCOMED" -eq 3 ] && [ "$BURST_REFUSED" -eq 3 ] || {
			echo "# -w $w: $BURST_WELCOMED welcomed, $BURST_REFUSED refused" >&2
			return 1
		}
		newcomer "m$w"
		stop_server
	done
}

@test "out of descriptors, then everyone leaving at once, leaves the listener on" {
	local w
	for w in 1 2; do
		launch with_nofile 64 "$CHATD" -b 127.0.0.1 -p 0 -w "$w"
		burst 100
		[ "$((BURST_WELCOMED + BURST_REFUSED))" -eq 100 ] || {
			echo "# -w $w: $BURST_WELCOMED welcomed, $BURST_REFUSED refused of 100" >&2
			return 1
		}
		newcomer "e$w"
		stop_server
	done
}

# on_worker W NAME...: join clients until each NAME sits on worker W
# (clients that land elsewhere stay connected, named spareN); needs -v.
on_worker() {
	local want=$1 name i=0 v w
	shift
	for name in "$@"; do
		while :; do
			i=$((i + 1))
			[ "$i" -le 40 ] || { echo "# cannot place $name" >&2; return 1; }
			join "$name" || return 1
			v="ADDR_$name"
			wait_for test -n "$(worker_of "${!v}")" || return 1
			w=$(worker_of "${!v}")
			[ "$w" = "$want" ] && break
			# Keep it: closing it would change the balance.
			eval "FD_spare$i=\$FD_$name"
		done
	done
}

@test "a slow client dropped while its worker is far behind costs nobody a line" {
	local dir=$BATS_TEST_TMPDIR v pid i n=220000 r
	start_server -w 2 -v -r 0 -R 32m -q 4m
	# The sender on worker 1; a client that never reads and three
	# readers after it on worker 2, so they follow it on its list.
	on_worker 1 sender
	say sender "/nick sender"
	expect sender "ok: you are now sender"
	on_worker 2 slow r1 r2 r3
	for r in sender r1 r2 r3; do
		v=FD_$r; in_background cat <&"${!v}" >"$dir/$r.out"
	done
	pid=$(worker_pid 2)
	[ -n "$pid" ]
	freeze "$pid"
	# 220,000 lines of 90 bytes (~30 MB in the ring: more than half of
	# it, less than all of it), all taken in while worker 2 stands.  The
	# slow client is dropped after ~5 MB, with over half a ring to go;
	# the readers' 4 MB queues ride out the catching up.
	v=FD_sender
	seq -f '%090g' 1 "$n" >&"${!v}"
	wait_for grep -q "^\"$(printf '%090d' "$n")\" received by the server\$" \
	    "$dir/sender.out" || { thaw "$pid"; return 1; }
	thaw "$pid"
	say sender "done"
	for r in r1 r2 r3; do
		DEADLINE=20 wait_for grep -q '^sender said: done$' "$dir/$r.out"
	done
	for r in r1 r2 r3; do
		# Every line once, in order, and one departure of slow.
		run awk -v n="$n" '
		    /^sender said: [0-9]+$/ {
			if ($3 + 0 != ++seen) { print "line " seen ": " $0; exit 1 }
		    }
		    / left/ && left[$0]++ { print "twice: " $0; exit 1 }
		    /messages lost/ { print; exit 1 }
		    END { if (seen != n) { print seen " of " n; exit 1 } }
		    ' "$dir/$r.out"
		[ "$status" -eq 0 ] || { echo "# $r: $output" >&2; return 1; }
		[ "$(grep -c "^Client ($ADDR_slow) left (send queue exceeded)\$" \
		    "$dir/$r.out")" -eq 1 ]
	done
	stop_server
}
