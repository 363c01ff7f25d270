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
	# It says how busy it was itself, so a reader knows a floor.
	[[ $output =~ $'\n'chatbench\ {4}[0-9]+%\ of\ a\ CPU\ in\ the\ measured\ window ]]
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
	# Its own CPU over the window: a share of one CPU, not nothing.
	[[ $(jnum bench_cpu_pct) =~ ^[0-9]+\.[0-9]$ ]]
	[ "$(jnum bench_cpu_pct | tr -d .)" -gt 0 ]
	stop_server
}

@test "--whisper: each sender's messages reach the next sender only" {
	start_server -w 2 -r 0
	# 100 whispers a second for each target: within what chatd lets
	# one client be sent by others (32 KiB/s).
	run --separate-stderr -0 "$CHATBENCH" --json --whisper -c 30 -s 4 \
	    -r 100 -d 1 -w 0 127.0.0.1 "$TCP_PORT"
	clean_run 30 4
	[ "$(jnum sent)" = "$(jnum acked)" ]
	# One receiver per message: the 26 others stay idle.
	[ "$(jnum total_deliveries)" = "$(jnum sent)" ]
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

# start_redis: a redis-server of our own on a free loopback port, no
# persistence; sets REDIS_PID and REDIS_PORT.  Redis cannot pick a port
# itself (its port 0 turns TCP off), so a few are tried in turn.
start_redis() {
	local dir=$BATS_TEST_TMPDIR/redis try
	mkdir -p "$dir"
	for try in 1 2 3 4 5; do
		REDIS_PORT=$((20000 + (RANDOM % 20000)))
		: >"$dir/log"
		redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' \
		    --appendonly no --dir "$dir" --logfile "$dir/log" \
		    --daemonize no 3>&- &
		REDIS_PID=$!
		redis_up() {
			grep -q 'Ready to accept' "$dir/log" ||
			    not_running "$REDIS_PID"
		}
		wait_for redis_up
		grep -q 'Ready to accept' "$dir/log" && return 0
		stop_redis
	done
	echo "# redis-server did not start:" >&2
	cat "$dir/log" >&2
	return 1
}

# stop_redis: the one we started, by its pid, if it still runs.
stop_redis() {
	[ -n "${REDIS_PID:-}" ] || return 0
	kill -KILL "$REDIS_PID" 2>/dev/null
	wait "$REDIS_PID" 2>/dev/null || :
	REDIS_PID=
}

# The helpers' teardown (kept as server_teardown), and then the
# redis-server a failed test left behind.
eval "server_$(declare -f teardown)"
teardown() {
	stop_redis
	server_teardown
}

@test "--proto redis: pub/sub checked like the chat, PUBLISH's reply the ack" {
	command -v redis-server >/dev/null ||
	    skip "redis-server is not installed (apt-get install redis-server)"
	start_redis
	run --separate-stderr -0 "$CHATBENCH" --proto redis --json -c 20 -s 3 \
	    -d 1 -w 0 -P "$REDIS_PID" 127.0.0.1 "$REDIS_PORT"
	stop_redis
	clean_run 20 3
	[ "$(jnum sent)" = "$(jnum acked)" ]
	# Every message reached the 19 other clients (its own echo is not
	# counted).
	[ "$(jnum total_deliveries)" -eq $(($(jnum sent) * 19)) ]
	[[ $(jnum server_cpu_us_per_delivery) =~ ^[0-9]+\.[0-9]+$ ]]
}

@test "--proto redis against a chat server: it says what it got, exit 1" {
	start_server
	run --separate-stderr -1 "$CHATBENCH" --proto=redis -c 2 -s 1 -d 1 \
	    127.0.0.1 "$TCP_PORT"
	[ -z "$output" ]
	[[ $stderr =~ ^chatbench:\ 127\.0\.0\.1\ $TCP_PORT:\ not\ a\ Redis\ server\ speaking\ RESP3\ \(it\ said\ \" ]]
	[[ $stderr =~ \(it\ said\ \"Welcome,\ Client\ \(127\.0\.0\.1:[0-9]+\)\.\"\)$ ]]
	stop_server
}

@test "-h prints the usage to stdout, -V the version" {
	run --separate-stderr -0 "$CHATBENCH" -h
	[ "${lines[0]}" = "usage: chatbench [-hV] [-c clients] [-s senders] [-r rate] [-l bytes]" ]
	[ "${lines[1]}" = "                 [-d seconds] [-w seconds] [-P pid] [--json]" ]
	[ "${lines[2]}" = "                 [--proto chat|redis] [--whisper] host port" ]
	[ "${#lines[@]}" -eq 3 ]
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
	bad --whisper -s 1 h 1 "chatbench: --whisper needs at least 2 senders"
	bad --whisper --proto redis h 1 "chatbench: --whisper is for the chat protocol only"
	bad --whisper -l 1020 h 1 "chatbench: invalid message length: 1020 (at most 1012 with --whisper)"
	bad --proto irc h 1 "chatbench: unknown protocol: irc (chat or redis)"
	bad --proto=x h 1 "chatbench: unknown protocol: x (chat or redis)"
	bad h 1 --proto "chatbench: option --proto needs an argument"
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

@test "make compare (tiny settings) writes the four tables and the plot" {
	command -v gnuplot >/dev/null ||
	    skip "gnuplot is not installed (apt-get install gnuplot-nox)"
	local out=$BATS_TEST_TMPDIR/cmp s
	COMPARE_SERVERS="chatd-w1 chatd-select seed" COMPARE_CLIENTS=10 \
	    COMPARE_IDLE=0 COMPARE_LAT_CLIENTS=12 COMPARE_CORES_CLIENTS=10 \
	    COMPARE_DURATION=1 COMPARE_WARMUP=0 COMPARE_REPEAT=1 \
	    COMPARE_OUT=$out CHATD=$CHATD CHATD_SELECT=$CHATD_SELECT \
	    CHATBENCH=$CHATBENCH \
	    run --separate-stderr -0 sh "$TOP/bench/compare"
	grep -qx '| clients | server | connected | M deliveries/s | × chatd -w 1 | server CPU % | server CPU µs/delivery | chatbench CPU % | lost/dup/reordered | notes |' \
	    "$out/RESULTS.md"
	grep -qx '| idle clients | server | connected | deliveries/s | server CPU µs/delivery | × chatd -w 1 | p99 latency ms | lost/dup/reordered | notes |' \
	    "$out/RESULTS.md"
	grep -qx '| clients | server | connected | deliveries/s | p50 ms | p99 ms | max ms | server CPU µs/delivery | lost/dup/reordered | notes |' \
	    "$out/RESULTS.md"
	grep -qx '| clients | server | CPUs for the server | M deliveries/s | server CPU % | server CPU µs/delivery | chatbench CPU % | lost/dup/reordered | notes |' \
	    "$out/RESULTS.md"
	# A clean row for every server in 1 and 3, and the baseline's ratio.
	for s in "chatd -w 1" chatd-select "chatd-select -1 (seed)"; do
		[ "$(grep -cE "^\| 10 \| $(printf '%s' "$s" |
		    sed 's/[()]/\\&/g') \| 10 \| [0-9]+\.[0-9]{2} \| [0-9]+\.[0-9]{2} \|.* \| 0/0/0 \|  \|$" \
		    "$out/RESULTS.md")" -eq 1 ] ||
		    { echo "# no clean throughput row for $s" >&2; return 1; }
		[ "$(grep -cE "^\| 12 \| $(printf '%s' "$s" |
		    sed 's/[()]/\\&/g') \| 12 \| [0-9]+ \|.* \| 0/0/0 \|  \|$" \
		    "$out/RESULTS.md")" -eq 1 ] ||
		    { echo "# no clean latency row for $s" >&2; return 1; }
	done
	grep -qE '^\| 10 \| chatd -w 1 \| 10 \| [0-9.]+ \| 1\.00 \|' "$out/RESULTS.md"
	grep -qE '^\| 0 \| chatd-select \| 10 \| [0-9]+ \| [0-9.]+ \|' "$out/RESULTS.md"
	grep -qE '^\| 10 \| chatd -w 1 \| 1 \| [0-9.]+ \|' "$out/RESULTS.md"
	grep -qF -- "- command: \`COMPARE_SERVERS=\"chatd-w1 chatd-select seed\" " \
	    "$out/RESULTS.md"
	grep -qE '^- machine: [0-9]+ CPUs, ' "$out/RESULTS.md"
	grep -qE '^Measured by `chatbench` on [0-9]{4}-[0-9]{2}-[0-9]{2} ' \
	    "$out/RESULTS.md"
	# The plot, in both formats, on white.
	[ "$(head -c 8 "$out/compare.png" | od -An -tx1 | tr -d ' ')" = \
	    89504e470d0a1a0a ]
	grep -q '<svg' "$out/compare.svg"
	grep -q 'FD_SETSIZE (1024):' "$out/compare.svg"
	grep -qx '<rect x="0" y="0" width="1600" height="1200" fill="#ffffff"/>' \
	    "$out/compare.svg"
	[ "$(sed '/^$/d' "$out/compare.svg" | tail -n 1)" = "</svg>" ]
}

@test "make compare without gnuplot names the package to install" {
	local out=$BATS_TEST_TMPDIR/cmp
	COMPARE_GNUPLOT=$BATS_TEST_TMPDIR/no/gnuplot COMPARE_OUT=$out \
	    run --separate-stderr -1 sh "$TOP/bench/compare"
	[ "$stderr" = "compare: $BATS_TEST_TMPDIR/no/gnuplot not found: the plot needs gnuplot (Debian: apt-get install gnuplot-nox)" ]
	[ ! -e "$out/RESULTS.md" ]
}
