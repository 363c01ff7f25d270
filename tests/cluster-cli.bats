#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatd -C and -N on the command line: a build without libnats refuses
# them; a build with it checks them before it starts.  No NATS server
# is needed here (tests/cluster.bats has the cluster itself).

load helpers

# has_cluster CHATD: that chatd was built with cluster mode.
has_cluster() {
	! "$1" -C nats://127.0.0.1:1 -S 2>&1 | grep -q 'without cluster support'
}

@test "chatd -C in a build without cluster support: a clear error, exit 2" {
	local plain=${NOCLUSTER_CHATD:-}
	if [ -z "$plain" ]; then
		has_cluster "$CHATD" && skip "no chatd without cluster mode built (NOCLUSTER_CHATD)"
		plain=$CHATD
	fi
	run -2 "$plain" -b 127.0.0.1 -p 0 -C nats://127.0.0.1:4222
	[ "$output" = "chatd: -C: this chatd was built without cluster support; rebuild it with libnats-dev installed (see README.md)" ]
	run -2 "$plain" -b 127.0.0.1 -p 0 -N room
	[ "$output" = "chatd: -N: this chatd was built without cluster support; rebuild it with libnats-dev installed (see README.md)" ]
}

@test "chatd -C: a bad server list or cluster name is refused, exit 2" {
	has_cluster "$CHATD" || skip "chatd was built without libnats"
	run -2 "$CHATD" -b 127.0.0.1 -p 0 -C 127.0.0.1:4222
	[ "$output" = "chatd: invalid -C 127.0.0.1:4222: each server must be nats://HOST:PORT" ]
	run -2 "$CHATD" -b 127.0.0.1 -p 0 -C nats://127.0.0.1:4222,nats://
	[ "$output" = "chatd: invalid -C nats://127.0.0.1:4222,nats://: a server URL has no host" ]
	run -2 "$CHATD" -b 127.0.0.1 -p 0 -C nats://127.0.0.1:4222 -N 'a.b'
	[ "$output" = "chatd: invalid cluster name: a.b (1 to 32 letters, digits, '-' or '_')" ]
	run -2 "$CHATD" -b 127.0.0.1 -p 0 -N room
	[ "${lines[0]}" = "chatd: -N needs -C" ]
	run -2 "$CHATD" -b 127.0.0.1 -p 0 -w 64 -C nats://127.0.0.1:4222
	[ "$output" = "chatd: -C: at most 63 workers (the bridge takes a slot)" ]
}

@test "chatd -C with no NATS server answering: exit 1, nothing left behind" {
	has_cluster "$CHATD" || skip "chatd was built without libnats"
	local port
	# A port nobody listens on, for chatd's own listener (the hub's
	# name has it), found like the servers' ports in cluster.bats.
	port=$((20000 + RANDOM % 30000))
	while (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		port=$((port + 1))
	done
	# Port 1 on loopback: closed, nobody answers.
	run -1 timeout 40 "$CHATD" -b 127.0.0.1 -p "$port" -u none \
	    -C nats://127.0.0.1:1
	# The bridge may log its tries around it: the master's line, exactly.
	printf '%s\n' "${lines[@]}" | grep -qxF \
	    "chatd: master: no NATS server of nats://127.0.0.1:1 answered within 20 s"
	[[ "$output" != *"ready tcp="* ]]
	[ ! -e "/dev/shm/chatd-127.0.0.1-$port" ]
	[ ! -e "/dev/shm/chatd-127.0.0.1-$port-bridge" ]
}
