#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# Stopping: SIGTERM and SIGINT stop the server gracefully; nothing is
# left behind.  Protocol tests: they run against $SERVER.

load helpers

@test "SIGTERM tells every client, exits 0 and removes the hub" {
	start_server
	join a
	join b
	kill -TERM "$SERVER_PID"
	# b may first see a's arrival; then the shutdown line for both.
	read_line b
	[ "$LINE" = "Client ($ADDR_a) connected" ] || [ "$LINE" = "Server shutting down" ]
	[ "$LINE" = "Server shutting down" ] || expect b "Server shutting down"
	expect a "Client ($ADDR_b) connected"
	expect a "Server shutting down"
	expect_eof a
	expect_eof b
	wait_for not_running "$SERVER_PID"
	run -0 wait "$SERVER_PID"
	SERVER_PID=
	[ ! -e "/dev/shm/chatd-127.0.0.1-$TCP_PORT" ]
}

@test "SIGINT stops the server the same way" {
	start_server
	join a
	kill -INT "$SERVER_PID"
	expect a "Server shutting down"
	expect_eof a
	wait_for not_running "$SERVER_PID"
	run -0 wait "$SERVER_PID"
	SERVER_PID=
	[ ! -e "/dev/shm/chatd-127.0.0.1-$TCP_PORT" ]
}

@test "a client that never reads does not hold up the stop" {
	local v
	start_server
	join a
	join slow
	expect a "Client ($ADDR_slow) connected"
	v=FD_a
	# Fill slow's socket buffers: a's lines are broadcast to it.
	in_background flood 3000 >&"${!v}"
	kill -TERM "$SERVER_PID"
	wait_for not_running "$SERVER_PID"
	kill "$BG_PID" 2>/dev/null || true
	SERVER_PID=
	[ ! -e "/dev/shm/chatd-127.0.0.1-$TCP_PORT" ]
}

@test "SIGPIPE never kills the server" {
	start_server
	join a
	join b
	expect a "Client ($ADDR_b) connected"
	# b vanishes with unread data; writing to it must not kill anything.
	disconnect b
	expect a "Client ($ADDR_b) left"
	say a "still here"
	expect a '"still here" received by the server'
	say a "and again"
	expect a '"and again" received by the server'
	kill -0 "$SERVER_PID"
	stop_server
}
