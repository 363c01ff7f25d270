#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# One global order: every client of every worker sees the broadcasts in
# the same order, each sender's lines in the order sent, exactly once.

load helpers

SENDERS=4
RECEIVERS=3
COUNT=100

@test "all clients on all workers see one order, each sender's in sequence" {
	local i r s v dir=$BATS_TEST_TMPDIR
	start_server -w 4 -r 0
	for i in $(seq 1 $SENDERS); do
		join "s$i"
		say "s$i" "/nick s$i"
	done
	for r in $(seq 1 $RECEIVERS); do
		join "r$r"
	done
	for i in $(seq 1 $SENDERS); do
		# Skip the arrivals and nick changes seen so far.
		while read_line "s$i"; do
			[ "$LINE" = "ok: you are now s$i" ] && break
		done
	done

	# All senders write at once, from separate processes.
	local pids=()
	for i in $(seq 1 $SENDERS); do
		v=FD_s$i
		in_background eval 'seq 1 $COUNT | sed "s/^/m /"' >&"${!v}"
		pids+=("$BG_PID")
	done
	wait "${pids[@]}"

	local total=$((SENDERS * COUNT))
	for r in $(seq 1 $RECEIVERS); do
		collect "r$r" "$total" "$dir/r$r"
	done
	# Every receiver saw the same interleaving.
	for r in $(seq 2 $RECEIVERS); do
		cmp "$dir/r1" "$dir/r$r"
	done
	# Exactly once, and each sender's lines in the order sent.
	for i in $(seq 1 $SENDERS); do
		grep "^s$i said: " "$dir/r1" | sed 's/.* m //' >"$dir/seq$i"
		seq 1 $COUNT | cmp - "$dir/seq$i"
	done
	# Senders see the others' lines in that same order too.
	for i in $(seq 1 $SENDERS); do
		collect "s$i" $(((SENDERS - 1) * COUNT)) "$dir/s$i"
		grep -v "^s$i said: " "$dir/r1" | cmp - "$dir/s$i"
	done
	stop_server
}

@test "acknowledgments come in the order the lines were sent" {
	start_server -w 2 -r 0
	join a
	local v=FD_a i
	seq 1 300 | sed 's/^/n /' >&"${!v}"
	for i in $(seq 1 300); do
		expect a "\"n $i\" received by the server"
	done
	stop_server
}
