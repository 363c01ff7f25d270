#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatd's processes: the master, its workers and the hub between them.

load helpers

# spread NAME...: join clients until the first two sit on different
# workers; sets W_<name> to each client's worker.  Needs -v.
join_on_two_workers() {
	local i w
	join x1
	wait_for test -n "$(worker_of "$ADDR_x1")"
	W_first=$(worker_of "$ADDR_x1")
	for i in 2 3 4 5 6 7 8 9 10 11 12; do
		join "x$i"
		local v="ADDR_x$i"
		wait_for test -n "$(worker_of "${!v}")"
		w=$(worker_of "${!v}")
		if [ "$w" != "$W_first" ]; then
			OTHER=x$i
			W_other=$w
			return 0
		fi
	done
	echo "# every client landed on worker $W_first" >&2
	return 1
}

@test "a worker that dies is replaced and its clients are announced" {
	start_server -w 2 -v
	join_on_two_workers
	local pid
	pid=$(worker_pid "$W_first")
	[ -n "$pid" ]
	kill -KILL "$pid"
	wait_for log_has "worker $W_first \\(pid $pid\\) killed by signal 9"
	wait_for log_has "worker $W_first replaced"
	# The survivor's client hears that x1 left, and can still talk.
	local line
	while read_line "$OTHER"; do
		[ "$LINE" = "Client ($ADDR_x1) left (connection lost)" ] && break
	done
	[ "$LINE" = "Client ($ADDR_x1) left (connection lost)" ]
	join late
	say late "hello after the crash"
	expect late '"hello after the crash" received by the server'
	stop_server
}

@test "the workers exit when the master is killed, and a new chatd starts cleanly" {
	start_server -w 2
	local p1 p2 port=$TCP_PORT
	p1=$(worker_pid 1)
	p2=$(worker_pid 2)
	[ -n "$p1" ] && [ -n "$p2" ]
	kill -KILL "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	wait_for not_running "$p1"
	wait_for not_running "$p2"
	# The killed master left its hub behind; the next one replaces it.
	[ -e "/dev/shm/chatd-127.0.0.1-$port" ]
	launch "$CHATD" -b 127.0.0.1 -p "$port"
	join a
	say a "fresh"
	expect a '"fresh" received by the server'
	stop_server
	[ ! -e "/dev/shm/chatd-127.0.0.1-$port" ]
}

@test "a stalled worker resynchronises and reports what it lost" {
	start_server -w 2 -v -r 0 -R 64k
	join_on_two_workers
	local victim=x1 sender=$OTHER pid i
	# The victim has seen everything up to the sender's arrival.
	local n=1
	while [ "$n" -lt "${OTHER#x}" ]; do
		n=$((n + 1))
		expect "$victim" "Client ($(v=ADDR_x$n; echo "${!v}")) connected"
	done
	pid=$(worker_pid "$W_first")
	freeze "$pid"
	# 2000 records of ~80 bytes: more than the 64 KiB ring.
	local v="FD_$sender"
	seq 1 2000 | sed 's/^/flood /' >&"${!v}"
	for i in $(seq 1 2000); do
		read_line "$sender" || break
		[ "$LINE" = "\"flood $i\" received by the server" ] || {
			echo "# sender got '$LINE' at $i" >&2
			thaw "$pid"
			return 1
		}
	done
	thaw "$pid"
	# The oldest are gone, reported once; what the ring still keeps
	# (the sender's newest, in its own area) follows, in order.
	local lost addr
	addr=$(v=ADDR_$sender; echo "${!v}")
	read_line "$victim"
	[[ "$LINE" =~ ^\*\*\*\ ([0-9]+)\ messages\ lost$ ]]
	lost=${BASH_REMATCH[1]}
	[ "$lost" -gt 0 ] && [ "$lost" -le 2000 ]
	for i in $(seq $((lost + 1)) 2000); do
		expect "$victim" "Client ($addr) said: flood $i"
	done
	say "$sender" "after"
	expect "$victim" "Client ($addr) said: after"
	wait_for log_has "worker $W_first: fell a ring behind: $lost messages lost"
	stop_server
}

@test "connections are spread evenly over the workers" {
	# All from 127.0.0.1: no per-address limit (-a 0).
	start_server -w 4 -a 0
	local i
	for i in $(seq 1 200); do
		connect "s$i"
	done
	# Every connection is accepted and registered.
	wait_for eval '[ "$("$CHATD" -S -p "$TCP_PORT" | sed -n "1s/.*, \([0-9]*\) clients,.*/\1/p")" = 200 ]'
	local max
	max=$("$CHATD" -S -p "$TCP_PORT" | awk '$1 ~ /^[0-9]+$/ { if ($3 > m) m = $3 } END { print m }')
	# No worker holds more than 1.25 times the mean of 50.
	[ "$max" -le 62 ] || { "$CHATD" -S -p "$TCP_PORT" >&2; return 1; }
	stop_server
}

@test "SIGTERM to the whole process group stops without replacing workers" {
	local log=$BATS_TEST_TMPDIR/server.log
	# Its own process group, as under timeout(1) or a service manager.
	launch setsid "$CHATD" -b 127.0.0.1 -p 0 -w 3
	join a
	kill -TERM -- "-$SERVER_PID"
	expect a "Server shutting down"
	wait_for not_running "$SERVER_PID"
	run -0 wait "$SERVER_PID"
	SERVER_PID=
	run -1 grep -q 'replaced' "$log"
	grep -qx 'chatd: master: stopped' "$log"
	[ ! -e "/dev/shm/chatd-127.0.0.1-$TCP_PORT" ]
}

# skip_until NAME LINE: read NAME's lines until LINE.
skip_until() {
	while read_line "$1"; do
		[ "$LINE" = "$2" ] && return 0
	done
	echo "# $1: never got '$2'" >&2
	return 1
}

# history_of NAME: NAME's answer to /history 100, the count line first.
history_of() {
	local n i out
	say "$1" "/history 100"
	read_line "$1" || return 1
	out=$LINE
	n=${LINE#history: }
	n=${n% lines}
	for ((i = 0; i < n; i++)); do
		read_line "$1" || return 1
		out+=$'\n'"$LINE"
	done
	printf '%s\n' "$out"
}

@test "/history is answered alike on every worker and never shows a whisper" {
	local i w v reps=() seen=" " first="" h
	start_server -w 4 -v
	# Join until every worker holds a client; 40 tries at most.
	for i in $(seq 1 40); do
		join "c$i"
		v="ADDR_c$i"
		wait_for test -n "$(worker_of "${!v}")"
		w=$(worker_of "${!v}")
		if [[ $seen != *" $w "* ]]; then
			seen+="$w "
			reps+=("c$i")
		fi
		[ "${#reps[@]}" -eq 4 ] && break
	done
	[ "${#reps[@]}" -eq 4 ]
	say c1 "/nick alice"
	skip_until c1 "ok: you are now alice"
	say "${reps[1]}" "/msg alice the secret word"
	skip_until "${reps[1]}" "ok: sent to alice"
	say "${reps[2]}" "/me waves"
	skip_until "${reps[2]}" "ok: action sent"
	say "${reps[3]}" "last one"
	skip_until "${reps[3]}" '"last one" received by the server'
	v="ADDR_${reps[3]}"
	# Each worker has delivered everything once its client has the last.
	for w in "${reps[@]}"; do
		[ "$w" = "${reps[3]}" ] ||
		    skip_until "$w" "Client (${!v}) said: last one"
	done
	for w in "${reps[@]}"; do
		h=$(history_of "$w")
		[[ $h != *secret* ]]
		[[ $h == *"history: Client (${!v}) said: last one" ]]
		[[ $h == *"is now known as alice"$'\n'"history: * "*" waves"$'\n'* ]]
		if [ -z "$first" ]; then
			first=$h
		elif [ "$first" != "$h" ]; then
			printf '# %s:\n%s\n# %s:\n%s\n' "${reps[0]}" "$first" \
			    "$w" "$h" >&2
			return 1
		fi
	done
	stop_server
}
