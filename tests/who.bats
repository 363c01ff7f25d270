#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# /who: PATTERN, a listing streamed as the client reads it, its cost on
# the rate limit, and a client that leaves in the middle of one.
# Protocol tests: they run against $SERVER (chatd or chatd-select).

load helpers

# await NAME LINE: read NAME's lines until LINE (others may come first:
# a crowd's chat).  Each read has the deadline.
await() {
	LINE=
	until [ "${LINE-}" = "$2" ]; do
		read_line "$1" || { echo "# $1: no '$2'" >&2; return 1; }
	done
}

# sorted_lines NAME N: the next N lines NAME receives, sorted, in GOT.
sorted_lines() {
	local i all=
	for ((i = 0; i < $2; i++)); do
		read_line "$1" || return 1
		all+="$LINE"$'\n'
	done
	GOT=$(printf '%s' "$all" | sort)
}

# crowd N: N clients in chatbench (one of them, b0, sends a line a
# second), held for a minute in the background (CROWD_PID); returns
# once the watcher client w has seen all of them join.
crowd() {
	local i seen=0
	join w
	"$TOP/chatbench" -c "$1" -s 1 -r 1 -d 60 127.0.0.1 "$TCP_PORT" \
	    >/dev/null 2>"$BATS_TEST_TMPDIR/chatbench.err" 3>&- &
	CROWD_PID=$!
	while [ "$seen" -lt "$1" ]; do
		read_line w || { echo "# w saw $seen of $1 join" >&2; return 1; }
		[[ "$LINE" != *" connected" ]] || seen=$((seen + 1))
	done
}

@test "/who PATTERN lists the nicknames or addresses that match, case ignored" {
	start_server
	join a
	join b
	expect a "Client ($ADDR_b) connected"
	join c
	expect a "Client ($ADDR_c) connected"
	expect b "Client ($ADDR_c) connected"
	say b "/nick Bobby"
	expect b "ok: you are now Bobby"
	expect a "Client ($ADDR_b) is now known as Bobby"
	expect c "Client ($ADDR_b) is now known as Bobby"
	say a "/who bOB*"
	expect a "who: 1 matching bOB*"
	expect a "who: Bobby ($ADDR_b)"
	# An address, literally, and with a class and a '?'.
	say a "/who $ADDR_c"
	expect a "who: 1 matching $ADDR_c"
	expect a "who: Client ($ADDR_c)"
	say a "/who [0-9]27.0.0.?:${ADDR_a##*:}"
	expect a "who: 1 matching [0-9]27.0.0.?:${ADDR_a##*:}"
	expect a "who: Client ($ADDR_a)"
	say a "/who nobody*"
	expect a "who: 0 matching nobody*"
	say a "/who *"
	expect a "who: 3 matching *"
	sorted_lines a 3
	[ "$GOT" = "$(printf '%s\n' "who: Bobby ($ADDR_b)" \
	    "who: Client ($ADDR_a)" "who: Client ($ADDR_c)" | sort)" ]
	stop_server
}

@test "/who PATTERN: a pattern with a space or too long is an error" {
	start_server
	join a
	say a "/who a b"
	expect a "error: usage: /who [PATTERN]"
	say a "/who $(printf 'x%.0s' $(seq 65))"
	expect a "error: pattern too long (max 64 bytes)"
	say a "/who $(printf 'x%.0s' $(seq 64))"
	expect a "who: 0 matching $(printf 'x%.0s' $(seq 64))"
	stop_server
}

@test "the lines after /who are answered after its listing" {
	start_server
	join a
	join b
	expect a "Client ($ADDR_b) connected"
	# One write (printf(1) buffers a pipe or socket whole): the server
	# reads the three lines at once.
	env printf '/who\n/who *\nhello\n' >&"$FD_a"
	expect a "who: 2 connected"
	sorted_lines a 2
	[ "$GOT" = "$(printf '%s\n' "who: Client ($ADDR_a)" \
	    "who: Client ($ADDR_b)" | sort)" ]
	expect a "who: 2 matching *"
	sorted_lines a 2
	expect a '"hello" received by the server'
	stop_server
}

@test "/who then end of input: the whole listing, then the close" {
	local out=$BATS_TEST_TMPDIR/who.out
	start_server -a 0
	# A listing of a few hundred takes several rounds: the end of
	# input comes in the middle of it.
	crowd 300
	timeout 20 "$CHATC" 127.0.0.1 "$TCP_PORT" <<<'/who' >"$out"
	[ "$(grep -m1 '^who: ' "$out")" = "who: 302 connected" ]
	[ "$(grep -c '^who: ' "$out")" -eq 303 ]
	[ "$(grep '^who: ' "$out" | sort -u | wc -l)" -eq 303 ]
	kill "$CROWD_PID"
	wait "$CROWD_PID" || true
	stop_server
}

# The size of a crowd whose listing passes a 64 KiB queue: entries are
# "who: Client (127.0.0.1:PORT)", 30 bytes.  chatd-select holds fewer
# than FD_SETSIZE clients: a smaller crowd and queue.
big_crowd() {
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	if [ "$SERVER" = "$CHATD_SELECT" ]; then
		CROWD=900 SENDQ=16k
	else
		CROWD=2500 SENDQ=64k
	fi
	[ "$(ulimit -n)" -ge $((2 * CROWD + 100)) ] ||
	    skip "descriptor limit $(ulimit -n): too few for $CROWD clients"
}

@test "a /who longer than the send queue is streamed: every entry once, nobody dropped" {
	local out=$BATS_TEST_TMPDIR/who.out n
	big_crowd
	start_server -a 0 -q "$SENDQ"
	crowd "$CROWD"
	timeout 60 "$CHATC" 127.0.0.1 "$TCP_PORT" <<<'/who' >"$out"
	n=$((CROWD + 2))
	[ "$(grep -m1 '^who: ' "$out")" = "who: $n connected" ]
	# Every other line is an entry or b0's chat: count the entries.
	[ "$(grep -c '^who: ' "$out")" -eq $((n + 1)) ]
	[ "$(grep '^who: ' "$out" | sed 1d | sort | uniq -d | wc -l)" -eq 0 ]
	[ "$(grep -cE '^who: Client \(127\.0\.0\.1:[0-9]+\)$' "$out")" -eq $((n - 1)) ]
	[ "$(grep -cE '^who: b0 \(127\.0\.0\.1:[0-9]+\)$' "$out")" -eq 1 ]
	grep -qx "who: Client ($ADDR_w)" "$out"
	run ! grep -q 'send queue exceeded' "$BATS_TEST_TMPDIR/server.log"
	kill "$CROWD_PID"
	wait "$CROWD_PID" || true
	stop_server
}

@test "a client that leaves in the middle of a /who is freed, the others go on" {
	local i
	big_crowd
	start_server -a 0 -q "$SENDQ"
	crowd "$CROWD"
	join asker
	await w "Client ($ADDR_asker) connected"
	say asker "/who"
	await asker "who: $((CROWD + 2)) connected"
	read_line asker
	[[ "$LINE" == "who: "* ]]
	disconnect asker
	# It left of itself: no "send queue exceeded".
	until [[ "$LINE" == "Client ($ADDR_asker) left"* ]]; do
		read_line w
	done
	[ "$LINE" = "Client ($ADDR_asker) left" ]
	say w "/who $ADDR_asker"
	await w "who: 0 matching $ADDR_asker"
	say w "still here"
	await w '"still here" received by the server'
	kill "$CROWD_PID"
	wait "$CROWD_PID" || true
	stop_server
}

# acks NAME N: read NAME's lines until its N-th acknowledgment.
acks() {
	local n=0
	while [ "$n" -lt "$2" ]; do
		read_line "$1" || return 1
		[[ "$LINE" != *" received by the server" ]] || n=$((n + 1))
	done
}

@test "/who is charged to the rate limit by what it lists" {
	local v listings out=$BATS_TEST_TMPDIR/asker.out
	# At 2 lines a second (a burst of 4), a /who of 67 entries costs
	# its line and 67/32 more: about 3.1 lines.  A chatter at the same
	# rate is the clock.
	start_server -r 2
	join clock
	join asker
	expect clock "Client ($ADDR_asker) connected"
	crowd 64
	v=FD_asker; in_background cat <&"${!v}" >"$out"
	v=FD_asker; in_background sh -c 'yes /who | head -n 100' >&"${!v}"
	v=FD_clock; in_background sh -c 'yes tick | head -n 100' >&"${!v}"
	acks clock 16
	# Both began with a burst of 4 and earn 2 a second: 16 lines of
	# the clock's are worth about 16 / 3.1 listings.  Uncharged, the
	# asker would have had about as many as the clock.
	listings=$(grep -c '^who: [0-9]* connected$' "$out")
	echo "# $listings listings while the clock sent 16 lines" >&3
	[ "$listings" -ge 2 ] && [ "$listings" -le 8 ]
	kill "$CROWD_PID"
	wait "$CROWD_PID" || true
	stop_server
}
