#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatd's command line: usage, bad options and values, taken ports.

load helpers

@test "-h prints the usage to stdout and exits 0" {
	run --separate-stderr -0 "$CHATD" -h
	[ "${lines[0]}" = "usage: chatd [-dhvV] [-w workers] [-b address] [-p port] [-u port|none]" ]
	[ "${lines[3]}" = "       chatd -S [-b address] [-p port]" ]
	[ -z "$stderr" ]
}

@test "--help and --version work as -h and -V, for all four programs" {
	local p
	for p in "$CHATD" "$CHATD_SELECT" "$CHATC" "$TOP/chatbench"; do
		run --separate-stderr -0 "$p" --help
		[[ "${lines[0]}" == "usage: $(basename "$p") "* ]]
		[ -z "$stderr" ]
		run --separate-stderr -0 "$p" --version
		[ "$output" = "$(basename "$p") $(sed -n 's/^#define VERSION[[:space:]]*"\(.*\)"$/\1/p' "$TOP/common/version.h")" ]
	done
}

@test "-V prints the version" {
	run -0 "$CHATD" -V
	[[ "$output" =~ ^chatd\ [0-9]+\.[0-9]+ ]]
}

# bad_value OPTION VALUE MESSAGE: exit 2, the message, then the usage.
bad_value() {
	run --separate-stderr -2 "$CHATD" "$1" "$2"
	[ -z "$output" ]
	local first=${stderr%%$'\n'*}
	[ "$first" = "$3" ] || { echo "# got: $first" >&2; return 1; }
	[[ "$stderr" == *"usage: chatd"* ]]
}

@test "bad option values are named, with the usage, exit 2" {
	bad_value -w 0 "chatd: invalid worker count: 0"
	bad_value -w x "chatd: invalid worker count: x"
	bad_value -w 65 "chatd: invalid worker count: 65"
	bad_value -p 70000 "chatd: invalid port: 70000"
	bad_value -p -1 "chatd: invalid port: -1"
	bad_value -u abc "chatd: invalid udp port: abc"
	bad_value -b localhost "chatd: invalid bind address: localhost"
	bad_value -m 0 "chatd: invalid max-clients: 0"
	bad_value -a x "chatd: invalid max-per-address: x"
	bad_value -a -1 "chatd: invalid max-per-address: -1"
	bad_value -q 1z "chatd: invalid send queue size: 1z"
	bad_value -r fast "chatd: invalid rate: fast"
	bad_value -R 1k "chatd: invalid ring size: 1k"
}

@test "an unknown option or a stray argument gives the usage, exit 2" {
	run --separate-stderr -2 "$CHATD" -Z
	[[ "$stderr" == *"invalid option"*"usage: chatd"* ]]
	run --separate-stderr -2 "$CHATD" extra
	[[ "$stderr" == "chatd: unexpected argument: extra"$'\n'"usage: chatd"* ]]
}

@test "a port that is taken is a clear error, exit 1" {
	start_server
	run --separate-stderr -1 "$CHATD" -b 127.0.0.1 -p "$TCP_PORT"
	[ "$stderr" = "chatd: bind tcp 127.0.0.1:$TCP_PORT: Address already in use" ]
	stop_server
}

@test "-u none turns the UDP service off" {
	start_server -u none
	grep -q "ready tcp=127.0.0.1:$TCP_PORT udp=none workers=" \
	    "$BATS_TEST_TMPDIR/server.log"
	stop_server
}

@test "-w sets the number of workers in the ready line" {
	start_server -w 3
	grep -q "ready tcp=127.0.0.1:$TCP_PORT udp=127.0.0.1:$TCP_PORT workers=3\$" \
	    "$BATS_TEST_TMPDIR/server.log"
	stop_server
}

# all_at_head HEAD: chatd -S shows every worker at ring position HEAD.
all_at_head() {
	[ "$("$CHATD" -S -p "$TCP_PORT" | awk -v h="$1" \
	    '$1 ~ /^[0-9]+$/ && $7 == h && $8 == 0 { n++ } END { print n + 0 }')" -eq 2 ]
}

@test "-S prints uptime, each worker's counters and ring position, and totals" {
	local head
	start_server -w 2
	join a
	say a "one"
	expect a '"one" received by the server'
	run -0 "$CHATD" -S -p "$TCP_PORT"
	[[ "${lines[0]}" =~ ^chatd\ on\ port\ $TCP_PORT:\ master\ pid\ $SERVER_PID,\ up\ [0-9]+s,\ 1\ clients,\ ring\ head\ ([0-9]+),\ keeps\ 131072,\ 4194304\ bytes\ a\ writer$ ]]
	head=${BASH_REMATCH[1]}
	[ "$head" -gt 0 ]
	[ "${lines[1]}" = "worker  pid       clients      msgs-in     msgs-out      bytes-out       ring-pos     behind stall-ms  holds" ]
	[ "${#lines[@]}" -eq 5 ]
	# Every worker was woken by a's line and has read up to the head.
	wait_for all_at_head "$head"
	[[ "${lines[4]}" =~ ^total\ +-\ +1\ +[0-9]+\ +[0-9]+\ +[0-9]+$ ]]
	# Both workers running, neither behind, stalled nor held.
	run -0 "$CHATD" -S -p "$TCP_PORT"
	[[ "${lines[2]}" =~ ^1\ +[0-9]+\ +[01]\ +[0-9]+\ +[0-9]+\ +[0-9]+\ +$head\ +0\ +0\ +0$ ]]
	[[ "${lines[3]}" =~ ^2\ +[0-9]+\ +[01]\ +[0-9]+\ +[0-9]+\ +[0-9]+\ +$head\ +0\ +0\ +0$ ]]
	stop_server
}

@test "-S without a chatd on the port: not running, exit 1" {
	run --separate-stderr -1 "$CHATD" -S -p 1
	[ "$stderr" = "chatd: not running on port 1" ]
	[ -z "$output" ]
}

@test "listening on ::1 shows IPv6 addresses in brackets" {
	[ -e /proc/net/if_inet6 ] || skip "no IPv6 on this machine"
	local fd
	launch "$CHATD" -b ::1 -p 0
	grep -q "ready tcp=\[::1\]:$TCP_PORT " "$BATS_TEST_TMPDIR/server.log"
	exec {fd}<>"/dev/tcp/::1/$TCP_PORT"
	FD_v6=$fd
	read_line v6
	[[ "$LINE" =~ ^Welcome,\ Client\ \(\[::1\]:[0-9]+\)\.$ ]]
	stop_server
}

@test "a dual-stack listener shows IPv4 clients as IPv4" {
	[ -e /proc/net/if_inet6 ] || skip "no IPv6 on this machine"
	launch "$CHATD" -b :: -p 0
	grep -q "ready tcp=\[::\]:$TCP_PORT " "$BATS_TEST_TMPDIR/server.log"
	connect a
	read_line a
	[[ "$LINE" =~ ^Welcome,\ Client\ \(127\.0\.0\.1:[0-9]+\)\.$ ]]
	stop_server
}

@test "-d detaches, -P writes the pidfile and SIGTERM removes it" {
	local pidfile=$BATS_TEST_TMPDIR/chatd.pid pid
	cd "$BATS_TEST_TMPDIR"
	run -0 "$CHATD" -d -b 127.0.0.1 -p 0 -w 1 -P chatd.pid
	wait_for test -s "$pidfile"
	pid=$(cat "$pidfile")
	kill -0 "$pid"
	kill -TERM "$pid"
	wait_for not_running "$pid"
	wait_for test ! -e "$pidfile"
}
