#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatbench: it finds nothing wrong with a correct server, on both
# server models; its JSON parses; it fails cleanly on bad arguments and
# on a server that is not there; a server that goes away mid-run does
# not hang it; and the make compare script writes its two files.

load helpers

CHATBENCH=${CHATBENCH:-$TOP/chatbench}

# jnum KEY: the value of KEY in chatbench's one-line JSON in $output.
jnum() {
	printf '%s\n' "$output" | sed -n "s/.*\"$1\": \([^,}]*\).*/\1/p"
}

# json_parses: $output is one JSON object (jq or python3 when present,
# else: one line, braces balanced, every key quoted).
json_parses() {
	[ "${#lines[@]}" -eq 1 ] || return 1
	if command -v jq >/dev/null 2>&1; then
		printf '%s\n' "$output" | jq -e 'type == "object"' >/dev/null
	elif command -v python3 >/dev/null 2>&1; then
		printf '%s\n' "$output" | python3 -m json.tool >/dev/null
	else
		[[ $output =~ ^\{(\"[a-z_0-9]+\":\ [^,]+,\ )*\"[a-z_0-9]+\":\ [^,]+\}$ ]]
	fi
}

# clean_run CLIENTS SENDERS: exact counts, nothing lost, something
# delivered.
clean_run() {
	json_parses || { echo "# not JSON: $output" >&2; return 1; }
	[ "$(jnum clients)" = "$1" ]
	[ "$(jnum connected)" = "$1" ]
	[ "$(jnum senders)" = "$2" ]
	[ "$(jnum lost)" = 0 ]
	[ "$(jnum duplicated)" = 0 ]
	[ "$(jnum reordered)" = 0 ]
	[ "$(jnum malformed)" = 0 ]
	[ "$(jnum dropped_clients)" = 0 ]
	[ "$(jnum refused)" = 0 ]
	[ "$(jnum drained)" = true ]
	[ "$(jnum deliveries)" -gt 0 ]
	[ "$(jnum total_deliveries)" -gt 0 ]
}

@test "against chatd: deliveries, and none lost, duplicated or reordered" {
	start_server -w 2 -r 0
	run --separate-stderr -0 "$CHATBENCH" -c 30 -s 5 -d 1 -w 0 \
	    127.0.0.1 "$TCP_PORT"
	[[ $output =~ deliveries\ +([0-9]+)\ measured ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[[ $output == *$'\nlost         0\n'* ]]
	[[ $output == *$'\nduplicated   0\n'* ]]
	[[ $output == *$'\nreordered    0'* ]]
	[[ $output == "clients      30 asked, 30 connected, 0 refused"* ]]
	stop_server
}

@test "--json against chatd: one object with the exact counts" {
	start_server -w 2 -r 0
	run --separate-stderr -0 "$CHATBENCH" --json -c 25 -s 4 -l 100 \
	    -d 1 -w 0 -P "$SERVER_PID" 127.0.0.1 "$TCP_PORT"
	clean_run 25 4
	[ "$(jnum bytes)" = 100 ]
	[ "$(jnum rate)" = 0 ]
	[ "$(jnum sent)" = "$(jnum acked)" ]
	# Every message reached the 24 other clients.
	[ "$(jnum total_deliveries)" -eq $(($(jnum sent) * 24)) ]
	[[ $(jnum p50) =~ ^[0-9]+\.[0-9]$ ]]
	[[ $(jnum server_cpu_us_per_delivery) =~ ^[0-9]+\.[0-9]+$ ]]
	[[ $(jnum server_rss_kb_per_client) =~ ^-?[0-9]+\.[0-9]$ ]]
	stop_server
}

@test "a fixed rate sends that many messages per sender" {
	start_server -w 2 -r 0
	run --separate-stderr -0 "$CHATBENCH" --json -c 10 -s 2 -r 50 \
	    -d 1 -w 0 127.0.0.1 "$TCP_PORT"
	clean_run 10 2
	# 50 a second each for one second, give or take one.
	[ "$(jnum sent)" -ge 98 ] && [ "$(jnum sent)" -le 102 ]
	stop_server
}

@test "against chatd-select: none lost; past FD_SETSIZE refused, not hung" {
	[ -x "$CHATD_SELECT" ] ||
	    skip "chatd-select is not built yet ($CHATD_SELECT)"
	SERVER=$CHATD_SELECT
	start_server -r 0
	run --separate-stderr -0 "$CHATBENCH" --json -c 30 -s 5 -d 1 -w 0 \
	    127.0.0.1 "$TCP_PORT"
	clean_run 30 5
	stop_server

	# select() cannot watch a descriptor past FD_SETSIZE (1024).
	ulimit -n 4096 || skip "cannot raise the descriptor limit"
	# All from 127.0.0.1: no per-address limit (-a 0).
	start_server -r 0 -a 0
	run --separate-stderr -0 "$CHATBENCH" --json -c 1100 -s 2 -d 1 -w 0 \
	    127.0.0.1 "$TCP_PORT"
	json_parses
	[ "$(jnum refused)" -gt 0 ]
	[ "$(($(jnum connected) + $(jnum refused)))" = 1100 ]
	[ "$(jnum lost)" = 0 ]
	[ "$(jnum duplicated)" = 0 ]
	[ "$(jnum reordered)" = 0 ]
	stop_server
}

@test "a server that goes away mid-run: clients reported dropped, no hang" {
	start_server -w 2 -r 0
	local out=$BATS_TEST_TMPDIR/bench.json
	"$CHATBENCH" --json -c 20 -s 2 -d 30 -w 0 127.0.0.1 "$TCP_PORT" \
	    >"$out" 2>/dev/null 3>&- &
	local bench=$!
	clients_in() {
		"$CHATD" -S -p "$TCP_PORT" 2>/dev/null |
		    grep -q ', 20 clients,'
	}
	wait_for clients_in
	stop_server
	# It ends on its own, long before the 30 s it was asked for.
	wait_for not_running "$bench"
	wait "$bench"
	run -0 cat "$out"
	json_parses
	[ "$(jnum dropped_clients)" = 20 ]
	[ "$(jnum lost)" = 0 ]
}

@test "-h prints the usage to stdout, -V the version" {
	run --separate-stderr -0 "$CHATBENCH" -h
	[ "${lines[0]}" = "usage: chatbench [-hV] [-c clients] [-s senders] [-r rate] [-l bytes]" ]
	[ "${lines[1]}" = "                 [-d seconds] [-w seconds] [-P pid] [--json] host port" ]
	[ -z "$stderr" ]
	run --separate-stderr -0 "$CHATBENCH" -V
	[[ $output =~ ^chatbench\ [0-9]+\.[0-9]+$ ]]
}

# bad ARGS... MESSAGE: exit 2, the one-line message, then the usage.
bad() {
	local msg=${*: -1}
	run --separate-stderr -2 "$CHATBENCH" "${@:1:$#-1}"
	[ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "$msg" ] ||
	    { echo "# got: ${stderr%%$'\n'*}" >&2; return 1; }
	[[ $stderr == *$'\n'"usage: chatbench"* ]]
}

@test "bad arguments are named, with the usage, exit 2" {
	bad -c 0 h 1 "chatbench: invalid clients: 0"
	bad -c x h 1 "chatbench: invalid clients: x"
	bad -s 0 h 1 "chatbench: invalid senders: 0"
	bad -c 5 -s 6 h 1 "chatbench: more senders (6) than clients (5)"
	bad -r -1 h 1 "chatbench: invalid rate: -1"
	bad -l 39 h 1 "chatbench: invalid message length: 39 (40 to 1024 bytes)"
	bad -l 2k h 1 "chatbench: invalid message length: 2k (40 to 1024 bytes)"
	bad -d 0 h 1 "chatbench: invalid duration: 0"
	bad -w x h 1 "chatbench: invalid warm-up: x"
	bad -P 0 h 1 "chatbench: invalid pid: 0"
	bad h 0 "chatbench: invalid port: 0"
	bad h 70000 "chatbench: invalid port: 70000"
	bad h "chatbench: missing host or port"
	bad h 1 2 "chatbench: too many arguments"
	bad -x h 1 "chatbench: unknown option -x"
	bad --jsn h 1 "chatbench: unknown option --jsn"
	bad h 1 -c "chatbench: too many arguments"
	bad -c "chatbench: option -c needs an argument"
}

@test "nothing listening: the exact message, exit 1" {
	# A port that was free a moment ago.
	start_server
	stop_server
	run --separate-stderr -1 "$CHATBENCH" -c 2 -s 1 -d 1 127.0.0.1 \
	    "$TCP_PORT"
	[ -z "$output" ]
	[ "$stderr" = "chatbench: 127.0.0.1 $TCP_PORT: Connection refused" ]
}

@test "make compare (tiny settings) writes the table and the plot" {
	[ -x "$CHATD_SELECT" ] ||
	    skip "chatd-select is not built yet ($CHATD_SELECT)"
	local out=$BATS_TEST_TMPDIR/cmp
	COMPARE_CLIENTS=10 COMPARE_DURATION=1 COMPARE_WARMUP=0 \
	    COMPARE_REPEAT=1 COMPARE_OUT=$out CHATD=$CHATD \
	    CHATD_SELECT=$CHATD_SELECT CHATBENCH=$CHATBENCH \
	    run --separate-stderr -0 sh "$TOP/bench/compare"
	[ -s "$out/RESULTS.md" ]
	grep -qF '| clients | server | connected | deliveries/s | p50 latency ms | p99 latency ms | server CPU µs/delivery | server RSS KB/client | lost/dup/reordered | notes |' \
	    "$out/RESULTS.md"
	local s
	for s in chatd-w1 chatd-w2 chatd-w4 chatd-select; do
		grep -qE "^\| 10 \| $s \| 10 \| [0-9]+ \|.* \| 0/0/0 \|" \
		    "$out/RESULTS.md" ||
		    { echo "# no clean row for $s" >&2; return 1; }
	done
	grep -q 'nproc\|CPUs' "$out/RESULTS.md"
	grep -q '<svg' "$out/compare.svg"
	grep -q '</svg>' "$out/compare.svg"
}

@test "the plot falls back to plain SVG without gnuplot" {
	local out=$BATS_TEST_TMPDIR/cmp
	COMPARE_CLIENTS="4 8" COMPARE_SERVERS=chatd-w2 COMPARE_DURATION=1 \
	    COMPARE_WARMUP=0 COMPARE_REPEAT=1 COMPARE_OUT=$out \
	    COMPARE_PLOT=awk CHATD=$CHATD CHATBENCH=$CHATBENCH \
	    run --separate-stderr -0 sh "$TOP/bench/compare"
	grep -qE '^\| 4 \| chatd-w2 \| 4 \| [0-9]+ \|' "$out/RESULTS.md"
	grep -qE '^\| 8 \| chatd-w2 \| 8 \| [0-9]+ \|' "$out/RESULTS.md"
	head -n 2 "$out/compare.svg" | grep -q '<svg xmlns="http://www.w3.org/2000/svg"'
	grep -q '<polyline' "$out/compare.svg"
	[ "$(tail -n 1 "$out/compare.svg")" = "</svg>" ]
}
