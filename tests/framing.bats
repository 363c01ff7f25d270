#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# Line framing: LF, CRLF, segments, the 1024-byte limit, telnet IAC.
# Protocol tests: they run against $SERVER (chatd or chatd-select).

load helpers

setup() {
	start_server
	join a
	join b
	expect a "Client ($ADDR_b) connected"
}

@test "a line ending in CRLF loses its CR" {
	send_raw a 'hello\r\n'
	expect a '"hello" received by the server'
	expect b "Client ($ADDR_a) said: hello"
}

@test "several lines in one segment are handled in order" {
	send_raw a 'one\ntwo\nthree\n'
	expect a '"one" received by the server'
	expect a '"two" received by the server'
	expect a '"three" received by the server'
	expect b "Client ($ADDR_a) said: one"
	expect b "Client ($ADDR_a) said: two"
	expect b "Client ($ADDR_a) said: three"
}

@test "one line split over several segments is joined" {
	send_raw a 'hel'
	# b's round trip makes the server read a's first part first.
	say b "ping"
	expect b '"ping" received by the server'
	send_raw a 'lo wor'
	say b "ping2"
	expect b '"ping2" received by the server'
	send_raw a 'ld\n'
	expect a "Client ($ADDR_b) said: ping"
	expect a "Client ($ADDR_b) said: ping2"
	expect a '"hello world" received by the server'
	expect b "Client ($ADDR_a) said: hello world"
}

@test "a line of exactly 1024 bytes is accepted" {
	local line
	line=$(printf 'x%.0s' $(seq 1024))
	say a "$line"
	expect a "\"$line\" received by the server"
	expect b "Client ($ADDR_a) said: $line"
}

@test "a line of 1024 bytes and CRLF is accepted" {
	local line
	line=$(printf 'y%.0s' $(seq 1024))
	send_raw a "$line\r\n"
	expect a "\"$line\" received by the server"
}

@test "a 1025-byte line gets the error and is not broadcast" {
	local line
	line=$(printf 'z%.0s' $(seq 1025))
	say a "$line"
	say a "after"
	expect a "error: line too long (max 1024 bytes)"
	expect a '"after" received by the server'
	expect b "Client ($ADDR_a) said: after"
}

@test "a very long line gives one error, then the next line is normal" {
	local v=FD_a
	# 1 MiB without a newline, then a normal line.
	head -c 1048576 /dev/zero | tr '\0' 'q' >&"${!v}"
	send_raw a '\nnormal\n'
	expect a "error: line too long (max 1024 bytes)"
	expect a '"normal" received by the server'
	expect b "Client ($ADDR_a) said: normal"
}

@test "telnet commands are discarded" {
	# IAC WILL ECHO, text, IAC DO SGA, IAC SB ... IAC SE, text.
	send_raw a '\377\373\001hi\377\375\003 th\377\372\030\001\377\360ere\n'
	expect a '"hi there" received by the server'
	expect b "Client ($ADDR_a) said: hi there"
}

@test "empty and blank lines are ignored" {
	send_raw a '\n\r\n   \t \n'
	say a "visible"
	expect a '"visible" received by the server'
	expect b "Client ($ADDR_a) said: visible"
}
