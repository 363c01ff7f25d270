#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# Commands: /nick /who /msg /quit /help, unknown commands and "//".
# Protocol tests: they run against $SERVER (chatd or chatd-select).

load helpers

setup() {
	start_server
	join a
	join b
	expect a "Client ($ADDR_b) connected"
}

@test "/nick sets the name and tells everyone else" {
	say a "/nick alice"
	expect a "ok: you are now alice"
	expect b "Client ($ADDR_a) is now known as alice"
	say a "hi"
	expect a '"hi" received by the server'
	expect b "alice said: hi"
	say a "/nick Alice2"
	expect a "ok: you are now Alice2"
	expect b "alice is now known as Alice2"
}

@test "/nick refuses a name in use, whatever its case" {
	say a "/nick alice"
	expect a "ok: you are now alice"
	expect b "Client ($ADDR_a) is now known as alice"
	say b "/nick ALICE"
	expect b "error: nickname in use"
	say b "/nick bob"
	expect b "ok: you are now bob"
}

@test "a nickname is unique across the whole server" {
	local i
	# Enough clients that they spread over every worker.
	say a "/nick carol"
	expect a "ok: you are now carol"
	for i in 1 2 3 4 5 6; do
		join "c$i"
		say "c$i" "/nick CAROL"
		expect "c$i" "error: nickname in use"
	done
}

@test "/nick refuses invalid nicknames" {
	local bad
	for bad in "" "1abc" "_abc" "a b" "abcdefghijklmnopq" "ab.c" "é"; do
		say a "/nick $bad"
		expect a "error: invalid nickname"
	done
	say a "/nick abcdefghijklmnop"
	expect a "ok: you are now abcdefghijklmnop"
	expect b "Client ($ADDR_a) is now known as abcdefghijklmnop"
	say b "/nick Z-9_x"
	expect b "ok: you are now Z-9_x"
}

@test "a nickname frees up when its owner leaves" {
	say a "/nick dave"
	expect a "ok: you are now dave"
	expect b "Client ($ADDR_a) is now known as dave"
	disconnect a
	expect b "dave left"
	say b "/nick dave"
	expect b "ok: you are now dave"
}

@test "/who lists every client" {
	say b "/nick bob"
	expect b "ok: you are now bob"
	expect a "Client ($ADDR_b) is now known as bob"
	say a "/who"
	expect a "who: 2 connected"
	# Registry order is not specified: collect both lines.
	read_line a; local one=$LINE
	read_line a; local two=$LINE
	local got
	got=$(printf '%s\n%s\n' "$one" "$two" | sort)
	local want
	want=$(printf '%s\n%s\n' "who: Client ($ADDR_a)" "who: bob ($ADDR_b)" | sort)
	[ "$got" = "$want" ]
}

@test "/msg whispers to one client only" {
	join c
	expect a "Client ($ADDR_c) connected"
	expect b "Client ($ADDR_c) connected"
	say b "/nick bob"
	expect b "ok: you are now bob"
	expect a "Client ($ADDR_b) is now known as bob"
	expect c "Client ($ADDR_b) is now known as bob"
	say a "/msg BOB psst, a secret"
	expect a "ok: sent to bob"
	expect b "Client ($ADDR_a) whispers: psst, a secret"
	# c gets nothing but the next broadcast.
	say a "public"
	expect c "Client ($ADDR_a) said: public"
}

@test "/msg to nobody, or without text, is an error" {
	say a "/msg nobody hello"
	expect a "error: no such client: nobody"
	say a "/msg"
	expect a "error: usage: /msg NAME TEXT"
	say a "/msg bob"
	expect a "error: usage: /msg NAME TEXT"
}

@test "/quit says goodbye and others see the reason" {
	say a "/quit off to lunch"
	expect a "Goodbye."
	expect_eof a
	expect b "Client ($ADDR_a) left (off to lunch)"
}

@test "/quit without a reason" {
	say a "/nick ann"
	expect a "ok: you are now ann"
	expect b "Client ($ADDR_a) is now known as ann"
	say a "/quit"
	expect a "Goodbye."
	expect_eof a
	expect b "ann left"
}

@test "a client that disconnects is announced" {
	disconnect a
	expect b "Client ($ADDR_a) left"
}

@test "/help lists the commands" {
	say a "/help"
	expect a "help: /nick NAME       set your nickname"
	expect a "help: /who [PATTERN]   list who is connected, or who matches"
	expect a "help: /msg NAME TEXT   send TEXT to NAME only"
	expect a "help: /me TEXT         act: others see * WHO TEXT"
	expect a "help: /history [N]     the last N broadcasts (20, at most 100)"
	expect a "help: /quit [REASON]   leave the chat"
	expect a "help: /help            this list"
	expect a "help: //TEXT           send a message that starts with /"
}

@test "an unknown command is an error" {
	say a "/frobnicate now"
	expect a "error: unknown command /frobnicate (try /help)"
	say a "/"
	expect a "error: unknown command / (try /help)"
}

@test "a double slash sends a message that starts with a slash" {
	say a "//etc/passwd is a file"
	expect a '"/etc/passwd is a file" received by the server'
	expect b "Client ($ADDR_a) said: /etc/passwd is a file"
}

@test "/me sends an action to everyone else" {
	say b "/nick bob"
	expect b "ok: you are now bob"
	expect a "Client ($ADDR_b) is now known as bob"
	say b "/me  waves	at \033[31meveryone "
	expect b "ok: action sent"
	expect a "* bob waves at \\033[31meveryone"
	send_raw a '/me dances\033[2J\001 wildly\r\n'
	expect a "ok: action sent"
	expect b "* Client ($ADDR_a) dances wildly"
}

@test "/me without text is an error" {
	say a "/me"
	expect a "error: usage: /me TEXT"
	say a "/me    "
	expect a "error: usage: /me TEXT"
}

@test "/history lists the last broadcasts, oldest first, never a whisper" {
	say b "/nick bob"
	expect b "ok: you are now bob"
	expect a "Client ($ADDR_b) is now known as bob"
	say a "hello"
	expect a '"hello" received by the server'
	expect b "Client ($ADDR_a) said: hello"
	say a "/msg bob a secret"
	expect a "ok: sent to bob"
	expect b "Client ($ADDR_a) whispers: a secret"
	say b "/me nods"
	expect b "ok: action sent"
	expect a "* bob nods"
	join c
	expect a "Client ($ADDR_c) connected"
	expect b "Client ($ADDR_c) connected"
	say c "/history"
	expect c "history: 6 lines"
	expect c "history: Client ($ADDR_a) connected"
	expect c "history: Client ($ADDR_b) connected"
	expect c "history: Client ($ADDR_b) is now known as bob"
	expect c "history: Client ($ADDR_a) said: hello"
	expect c "history: * bob nods"
	expect c "history: Client ($ADDR_c) connected"
	say c "/history 2"
	expect c "history: 2 lines"
	expect c "history: * bob nods"
	expect c "history: Client ($ADDR_c) connected"
	disconnect b
	expect a "bob left"
	say a "/history 1"
	expect a "history: 1 lines"
	expect a "history: bob left"
	say a "/history 0"
	expect a "history: 0 lines"
}

@test "/history keeps the last 100 and shows 20 by default" {
	local i
	for i in $(seq 1 120); do
		say a "m$i"
		expect a "\"m$i\" received by the server"
		expect b "Client ($ADDR_a) said: m$i"
	done
	say b "/history"
	expect b "history: 20 lines"
	for i in $(seq 101 120); do
		expect b "history: Client ($ADDR_a) said: m$i"
	done
	say b "/history 1000"
	expect b "history: 100 lines"
	for i in $(seq 21 120); do
		expect b "history: Client ($ADDR_a) said: m$i"
	done
}

@test "/history with a bad count is an error" {
	local bad
	for bad in "x" "-1" "+3" "2 3" "1x" "99999999999999999999999"; do
		say a "/history $bad"
		expect a "error: usage: /history [N]"
	done
}
