#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# The soak (bench/soak.sh) for 30 seconds: churn, misbehaving clients,
# a worker killed and one stopped, and the checker's verdict.  The full
# run is SOAK_SECONDS=600 bench/soak.sh.

load helpers

@test "a 30-second soak: nothing lost, one order, every drop explained" {
	local mem=64
	# A sanitized build keeps freed memory in quarantine (256 MiB).
	case $(readlink -f "$CHATD") in */build/san/*) mem=512 ;; esac
	run env SOAK_SECONDS=30 SOAK_MEM_MB="$mem" CHATD="$CHATD" \
	    SOAK_LOG="$BATS_TEST_TMPDIR/server.log" sh "$TOP/bench/soak.sh"
	# The violations and the summary, pass or fail.
	echo "$output" | sed 's/^/# /' >&3
	[ "$status" -eq 0 ]
	[[ "${lines[-2]}" =~ ^soak:\ 30s\ .*\ violations=0$ ]]
}
