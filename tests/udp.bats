#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# The UDP timestamp service.  Protocol tests: chatd or chatd-select.

load helpers

# udp_ask TEXT LEN: send TEXT as one datagram on a fresh socket and read
# a LEN-byte reply into REPLY.
udp_ask() {
	local fd
	exec {fd}<>"/dev/udp/127.0.0.1/$UDP_PORT"
	printf '%s' "$1" >&"$fd"
	REPLY=
	IFS= read -r -N "$2" -t "$DEADLINE" -u "$fd" REPLY
	local rc=$?
	eval "exec $fd>&-"
	return $rc
}

# The reply for a datagram that arrived between two readings of the clock.
check_stamp() {
	local before=$1 after=$2
	[ "$REPLY" = "Message received at $before" ] ||
	    [ "$REPLY" = "Message received at $after" ] || {
		echo "# got '$REPLY', expected the time $before or $after" >&2
		return 1
	}
}

now() {
	LC_ALL=C date '+%a %b %e %H:%M:%S %Y'
}

setup() {
	start_server
}

@test "a datagram gets the time it was received, in ctime format" {
	local before after
	before=$(now)
	udp_ask "hello" 44
	after=$(now)
	check_stamp "$before" "$after"
	[[ "$REPLY" =~ ^Message\ received\ at\ [A-Z][a-z]{2}\ [A-Z][a-z]{2}\ [\ 0-9][0-9]\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ [0-9]{4}$ ]]
}

@test "a datagram of 140 bytes is answered" {
	local before after
	before=$(now)
	udp_ask "$(printf 'a%.0s' $(seq 140))" 44
	after=$(now)
	check_stamp "$before" "$after"
}

@test "a datagram of 141 bytes is too long" {
	udp_ask "$(printf 'b%.0s' $(seq 141))" 39
	[ "$REPLY" = "error: message too long (max 140 bytes)" ]
}

@test "the UDP port defaults to the TCP port's number" {
	[ "$UDP_PORT" = "$TCP_PORT" ]
}

# The reflector limits (issue 9): a forged source must not turn the
# service into an amplifier.  bench/udpflood sends from one socket and
# counts the replies; every figure below is a count, not a time window.
UDPFLOOD=${UDPFLOOD:-$TOP/udpflood}
RRL_RATE=10
RRL_BURST=20

# flood ARGS...: run udpflood at the server; REPLIES and SENT from its line.
flood() {
	run -0 "$UDPFLOOD" "$@" 127.0.0.1 "$UDP_PORT"
	SENT=$(echo "$output" | sed -n 's/^sent \([0-9]*\) .*/\1/p')
	REPLIES=$(echo "$output" | sed -n 's/.* replies \([0-9]*\) .*/\1/p')
	[ -n "$SENT" ] && [ -n "$REPLIES" ]
}

@test "an empty datagram gets no reply" {
	flood -e 5 -n 1 -s 1
	[ "$SENT" -eq 6 ]
	[ "$REPLIES" -eq 1 ]
}

@test "replies to one source are limited to a burst, then the rate" {
	local t0 t1 elapsed bound
	t0=$EPOCHREALTIME
	flood -n 300 -s 1
	t1=$EPOCHREALTIME
	# Whole seconds the flood took, rounded up: the most tokens refilled.
	elapsed=$(( (${t1/./} - ${t0/./}) / 1000000 + 1 ))
	bound=$((RRL_BURST + RRL_RATE * elapsed))
	echo "# sent $SENT, $REPLIES replies in under ${elapsed}s (bound $bound)" >&3
	[ "$SENT" -eq 300 ]
	[ "$REPLIES" -ge "$RRL_BURST" ]
	[ "$REPLIES" -le "$bound" ]
}

@test "over-long datagrams count against the same limit" {
	flood -n 100 -s 141
	[ "$REPLIES" -ge "$RRL_BURST" ]
	[ "$REPLIES" -lt 100 ]
}

@test "suppression is logged once per interval, not per datagram" {
	flood -n 200 -s 1
	[ "$REPLIES" -lt 200 ]
	wait_for grep -q 'udp: rate limit' "$BATS_TEST_TMPDIR/server.log"
	flood -n 200 -s 1
	[ "$REPLIES" -lt 200 ]
	run -0 grep -c 'udp: rate limit' "$BATS_TEST_TMPDIR/server.log"
	[ "$output" -eq 1 ]
	grep -q 'suppressing replies to 127.0.0.1/32' \
	    "$BATS_TEST_TMPDIR/server.log"
}

# answered: one datagram gets its reply (the limit has refilled).
answered() {
	flood -n 1 -s 1 -w 200
	[ "$REPLIES" -eq 1 ]
}

@test "a limited source is answered again once its bucket refills" {
	flood -n 200 -s 1
	[ "$REPLIES" -lt 200 ]
	wait_for answered
}
