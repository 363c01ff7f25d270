#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# Text sanitising: what one client sends can never reach another's
# terminal as control bytes, escapes or invalid UTF-8.

load helpers

setup() {
	start_server
	join a
	join b
	expect a "Client ($ADDR_b) connected"
}

@test "control bytes are removed" {
	send_raw a 'a\001b\002c\177d\000e\n'
	expect a '"abcde" received by the server'
	expect b "Client ($ADDR_a) said: abcde"
}

@test "an escape sequence is removed whole" {
	send_raw a 'red\033[31mtext\033[0m end\033[2J\n'
	expect a '"redtext end" received by the server'
	expect b "Client ($ADDR_a) said: redtext end"
}

@test "an OSC title sequence is removed whole" {
	send_raw a '\033]0;pwned\007hello\n'
	expect b "Client ($ADDR_a) said: hello"
}

@test "invalid UTF-8 bytes become question marks, valid UTF-8 stays" {
	send_raw a 'caf\351 \303\251t\303\251 \342\202\254 \300\257\n'
	expect a '"caf? été € ??" received by the server'
	expect b "Client ($ADDR_a) said: caf? été € ??"
}

@test "spaces and tabs are trimmed, inner tabs become spaces" {
	send_raw a ' \t hello\tworld \t \n'
	expect a '"hello world" received by the server'
	expect b "Client ($ADDR_a) said: hello world"
}

@test "a line that is empty after cleaning is ignored" {
	send_raw a '\033[2J\001\002 \n'
	say a "next"
	expect a '"next" received by the server'
	expect b "Client ($ADDR_a) said: next"
}
