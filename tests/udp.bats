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
