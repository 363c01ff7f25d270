#!/bin/sh
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# bench/soak.sh -- soak chatd: hundreds of clients coming and going,
# misbehaving clients, workers killed and stopped, and a checker; see
# bench/soak.py for what it checks.  Loopback only; every loop bounded.
#
#	SOAK_SECONDS=600	how long the load runs (default 10 minutes)
#	SOAK_WORKERS=4		chatd -w
#	SOAK_CHATD_ARGS="-q 64k -R 256k -a 0"  chatd options: a small send
#				queue and ring, so that drops and a worker
#				left behind happen within seconds
#	SOAK_SEED=N		replay a run (the seed is in the summary)
#	SOAK_VERBOSE=1		narrate faults and violations on stderr
#	CHATD=./chatd		the server under test
#
# Prints the violations, then one summary line; exit 0 if none, 1 if
# any, 2 on bad usage.  Needs python3.
cd "$(dirname "$0")/.." || exit 2
if ! command -v python3 >/dev/null 2>&1; then
	echo "soak: python3 is needed (apt-get install python3)" >&2
	exit 2
fi
exec python3 bench/soak.py "$@"
