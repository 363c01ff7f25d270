#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# Back-pressure across the hub: publishers wait for the slowest live
# reader, and a worker that stops moving cannot hold the server hostage.

load helpers

CHATBENCH=${CHATBENCH:-$TOP/chatbench}

# scoreboard_row N: worker N's line of chatd -S.
scoreboard_row() {
	"$CHATD" -S -p "$TCP_PORT" | awk -v n="$1" '$1 == n'
}

# worker_is N WORD: worker N's scoreboard line ends with WORD.
worker_is() {
	[ "$(scoreboard_row "$1" | awk '{ print $NF }')" = "$2" ]
}

# place NAME W: join clients until NAME sits on worker W; the others
# that land elsewhere stay connected (needs -v).
place() {
	local i v w
	for i in $(seq 1 20); do
		join "$1" || return 1
		v="ADDR_$1"
		wait_for test -n "$(worker_of "${!v}")" || return 1
		w=$(worker_of "${!v}")
		[ "$w" = "$2" ] && return 0
		eval "FD_extra_$1_$i=\$FD_$1"
	done
	echo "# cannot place $1 on worker $2" >&2
	return 1
}

# stop_and_flood N: a chatd with a 64 KiB ring, a sender on worker 1
# and a reader on worker 2, both read into files; worker 2 is stopped
# (STOPPED_PID) and the sender sends N lines of ~100 bytes in the ring.
stop_and_flood() {
	local dir=$BATS_TEST_TMPDIR v
	start_server -w 2 -v -r 0 -R 64k
	place sender 1
	place reader 2
	v=FD_reader; in_background cat <&"${!v}" >"$dir/reader.out"
	v=FD_sender; in_background cat <&"${!v}" >"$dir/sender.out"
	STOPPED_PID=$(worker_pid 2)
	freeze "$STOPPED_PID"
	v=FD_sender
	seq -f 'line %g' 1 "$1" >&"${!v}"
}

# in_order FILE: the sender's lines in FILE come in increasing order.
in_order() {
	awk '/ said: line / { if ($NF + 0 <= last) exit 1; last = $NF + 0 }' "$1"
}

@test "publishers are held back while a worker is behind, and nothing is lost" {
	local dir=$BATS_TEST_TMPDIR pid n=3000
	# 3,000 records of ~100 bytes: over four times the 64 KiB ring.
	stop_and_flood "$n"
	pid=$STOPPED_PID
	# Worker 1 stops reading its sender, well short of the ring.
	wait_for worker_is 1 held || { thaw "$pid"; return 1; }
	thaw "$pid"
	wait_for grep -q "^\"line $n\" received by the server\$" \
	    "$dir/sender.out"
	wait_for grep -q "^Client ($ADDR_sender) said: line $n\$" \
	    "$dir/reader.out"
	# The reader on the stopped worker got every line, in order.
	run ! grep -q 'messages lost' "$dir/reader.out"
	[ "$(grep -c "^Client ($ADDR_sender) said: line " "$dir/reader.out")" \
	    -eq "$n" ]
	in_order "$dir/reader.out"
	[ "$(scoreboard_row 1 | awk '{ print $10 }')" -ge 1 ]
	stop_server
}

@test "a stopped worker is untethered: the others go on, it resynchronises" {
	local dir=$BATS_TEST_TMPDIR pid n=3000 row
	stop_and_flood "$n"
	pid=$STOPPED_PID
	# The sender is acknowledged in full while worker 2 still stands.
	wait_for grep -q "^\"line $n\" received by the server\$" \
	    "$dir/sender.out" || { thaw "$pid"; return 1; }
	row=$(scoreboard_row 2)
	thaw "$pid"
	# On the scoreboard: behind, not seen for over a second, untethered.
	[ "$(echo "$row" | awk '{ print $NF }')" = untethered ] ||
	    { echo "# $row" >&2; return 1; }
	[ "$(echo "$row" | awk '{ print $9 }')" -gt 1000 ]
	# It says what it lost, and what it still delivers is in order.
	wait_for grep -q '^\*\*\* [0-9]* messages lost$' "$dir/reader.out"
	say sender "after"
	wait_for grep -q "^Client ($ADDR_sender) said: after\$" \
	    "$dir/reader.out"
	in_order "$dir/reader.out"
	wait_for worker_is 2 0
	stop_server
}

@test "several workers under overload: nothing lost, duplicated or reordered" {
	[ -x "$CHATBENCH" ] || skip "chatbench is not built"
	start_server -w 4 -r 0 -R 64k
	run --separate-stderr -0 "$CHATBENCH" --json -c 60 -s 10 -d 2 -w 0 \
	    127.0.0.1 "$TCP_PORT"
	local key
	for key in lost duplicated reordered dropped_clients; do
		[ "$(printf '%s\n' "$output" |
		    sed -n "s/.*\"$key\": \([^,}]*\).*/\1/p")" = 0 ] || {
			echo "# $key: $output" >&2; return 1; }
	done
	stop_server
}

@test "a stopped worker that alone accepts holds newcomers up no longer than the bound" {
	local i w1=0 pid v
	start_server -w 2 -v
	# Clients join until four sit on worker 1; then worker 2's leave,
	# so worker 1 is over its share and only worker 2 accepts.
	for i in $(seq 1 16); do
		join "c$i"
		v=ADDR_c$i
		wait_for test -n "$(worker_of "${!v}")"
		[ "$(worker_of "${!v}")" = 1 ] && w1=$((w1 + 1))
		[ "$w1" -lt 4 ] || break
	done
	[ "$w1" -eq 4 ]
	for i in $(seq 1 "$i"); do
		v=ADDR_c$i
		[ "$(worker_of "${!v}")" = 2 ] && disconnect "c$i"
	done
	wait_for eval '[ "$(scoreboard_row 2 | awk "{ print \$3 }")" = 0 ]'
	pid=$(worker_pid 2)
	freeze "$pid"
	# Welcomed by worker 1 once worker 2 stops counting (1 s).
	connect late
	expect_welcome late || { thaw "$pid"; return 1; }
	thaw "$pid"
	stop_server
}

@test "while publishers wait, UDP is answered and newcomers are welcomed" {
	local pid
	stop_and_flood 3000
	pid=$STOPPED_PID
	wait_for worker_is 1 held || { thaw "$pid"; return 1; }
	run -0 "$CHATC" -u 127.0.0.1 "$UDP_PORT" <<<'ping'
	[[ "${lines[1]}" == "Server response: Message received at "* ]] || {
		thaw "$pid"; echo "# $output" >&2; return 1; }
	connect late
	expect_welcome late || { thaw "$pid"; return 1; }
	thaw "$pid"
	stop_server
}

# spam_who FD: 200,000 /who commands down FD.
spam_who() {
	yes /who | head -n 200000 >&"$1"
}

@test "a worker stopped in the middle of /who holds nobody up" {
	local dir=$BATS_TEST_TMPDIR v pid i max
	# A big registry makes every /who a long walk over it.
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	max=$(($(ulimit -n) - 100))
	[ "$max" -le 60000 ] || max=60000
	[ "$max" -ge 5000 ] || skip "descriptor limit $(ulimit -n): too few for a big registry"
	start_server -w 2 -v -r 0 -m "$max"
	place spammer 2
	place obs 1
	v=FD_spammer; in_background cat <&"${!v}" >"$dir/spammer.out"
	v=FD_spammer
	in_background spam_who "${!v}"
	wait_for grep -q '^who: ' "$dir/spammer.out"
	pid=$(worker_pid 2)
	for i in 1 2 3; do
		freeze "$pid"
		# Worker 1 serves its client as if nothing happened.
		say obs "/who"
		read_line obs && [[ "$LINE" =~ ^who:\ [0-9]+\ connected$ ]] || {
			thaw "$pid"
			echo "# round $i: /who got '$LINE'" >&2
			return 1
		}
		say obs "/nick obs$i"
		until [ "$LINE" = "ok: you are now obs$i" ]; do
			read_line obs || { thaw "$pid"; return 1; }
		done
		say obs "still here $i"
		expect obs "\"still here $i\" received by the server" ||
		    { thaw "$pid"; return 1; }
		thaw "$pid"
	done
	stop_server
}
