#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatc: arguments, pipe mode, -u, and terminal mode driven through tmux.
#
# Terminal tests run chatc in a pane of a private tmux server (its own
# socket, killed in teardown) and poll capture-pane until the screen
# shows what they expect; without tmux they are skipped.  A fake server
# is tests/tcpcat.c (built by make test) listening on port 0: the test
# writes what it should send into a FIFO before chatc connects.

load helpers

USAGE='usage: chatc [-hV] [-n nick] host port
       chatc -u host port'
PROMPT="Please input the message or enter 'exit' to terminate the program."

# Keep the helpers' teardown and run it after ours.
eval "helpers_$(declare -f teardown)"

# The tmux socket lives in the test's own directory, which bats removes.
setup() {
	TMUX_SOCK="$BATS_TEST_TMPDIR/tmux.sock"
}

teardown() {
	tm kill-server 2>/dev/null || true
	if [ -n "${FAKE_FD:-}" ]; then
		exec {FAKE_FD}>&-
	fi
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	helpers_teardown
}

# same EXPECTED ACTUAL: equal, or show both.
same() {
	if [ "$1" != "$2" ]; then
		printf '# expected:\n%s\n# got:\n%s\n' "$1" "$2" >&2
		return 1
	fi
}

# fake_server [tcpcat flags]: tcpcat listening on 127.0.0.1, port in
# FAKE_PORT; what is written to FAKE_FD is sent to the client that connects.
fake_server() {
	local dir="$BATS_TEST_TMPDIR"

	[ -x "$TCPCAT" ] || skip "$TCPCAT is not built (make test builds it)"
	mkfifo "$dir/fake.in"
	"$TCPCAT" "$@" 127.0.0.1 0 <"$dir/fake.in" >"$dir/fake.out" \
	    2>"$dir/fake.err" 3>&- &
	FAKE_PID=$!
	exec {FAKE_FD}>"$dir/fake.in"
	wait_for grep -qE '^(Listening|Bound) on ' "$dir/fake.err"
	FAKE_PORT=$(sed -nE 's/^(Listening|Bound) on .* ([0-9]+)$/\2/p' \
	    "$dir/fake.err")
}

tm() {
	TMUX= tmux -u -S "$TMUX_SOCK" -f /dev/null "$@" 3>&-
}

# in_pane ARGS...: chatc ARGS in a 100x30 pane.  Afterwards the pane
# shows chatc's exit status, whether the tty mode is exactly as before,
# and the flags that a raw mode left behind would have changed.
in_pane() {
	local script="$BATS_TEST_TMPDIR/pane.sh" args="" a

	command -v tmux >/dev/null || skip "tmux is not installed"
	for a in "$CHATC" "$@"; do
		args+=" $(printf '%q' "$a")"
	done
	cat >"$script" <<-EOF
	before=\$(stty -g)
	echo "pane: ready"
	sh -c 'echo \$\$ >"$BATS_TEST_TMPDIR/chatc.pid"; exec "\$@"' chatc$args
	echo "rc=\$?"
	[ "\$(stty -g)" = "\$before" ] && echo "tty: restored" || echo "tty: changed"
	echo "stty: \$(stty -a | tr ' ;' '\n\n' |
	    grep -Ex -- '-?(icrnl|opost|isig|icanon|echo)' | paste -sd ' ')"
	exec cat
	EOF
	tm new-session -d -x 100 -y 30 "LC_ALL=C.UTF-8 bash $script"
}

keys() {
	tm send-keys "$@"
}

# The screen without its empty lines.
screen() {
	tm capture-pane -p | sed '/^$/d'
}

pane_has() {
	tm capture-pane -p -J | grep -qF -- "$1"
}

last_line_is() {
	[ "$(screen | tail -n 1)" = "$1" ]
}

cursor_at() {
	[ "$(tm display -p '#{cursor_x}')" = "$1" ]
}

# The pane after chatc ended: its status and a terminal as before.
expect_restored() {
	wait_for pane_has "rc=$1" || { screen >&2; return 1; }
	wait_for pane_has "stty: " || { screen >&2; return 1; }
	same "rc=$1
tty: restored
stty: icrnl opost isig icanon echo" "$(screen | tail -n 3)"
}

chatc_pid() {
	cat "$BATS_TEST_TMPDIR/chatc.pid"
}

# The address A saw connect, into ADDR.
connected_addr() {
	read_line "$1" || return 1
	[[ $LINE =~ ^Client\ \((.*)\)\ connected$ ]] || {
		echo "# $1: expected a connect line, got '$LINE'" >&2
		return 1
	}
	ADDR=${BASH_REMATCH[1]}
}

@test "chatc -h prints the usage on stdout and exits 0" {
	run -0 --separate-stderr "$CHATC" -h
	same "$USAGE" "$output"
	same "" "$stderr"
}

@test "chatc -V prints its version" {
	run -0 "$CHATC" -V
	[[ $output =~ ^chatc\ [0-9]+\.[0-9]+ ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "bad arguments print one error and the usage on stderr, exit 2" {
	local -a cases=(
	    "missing host or port|"
	    "missing host or port|localhost"
	    "too many arguments|localhost 1 2"
	    "unknown option -x|-x localhost 1"
	    "option -n needs an argument|-n"
	    "invalid port: 0|localhost 0"
	    "invalid port: 65536|localhost 65536"
	    "invalid port: http|localhost http"
	    "invalid nickname: 9lives|-n 9lives localhost 1"
	    "invalid nickname: a_name_far_too_long|-n a_name_far_too_long localhost 1"
	    "-n cannot be used with -u|-u -n bob localhost 1"
	)
	local c msg
	for c in "${cases[@]}"; do
		msg=${c%%|*}
		# shellcheck disable=SC2086
		run -2 --separate-stderr "$CHATC" ${c#*|}
		same "chatc: $msg
$USAGE" "$stderr"
		same "" "$output"
	done
}

@test "a refused connection says chatc: HOST PORT: REASON and exits 1" {
	local port
	start_server
	port=$TCP_PORT
	stop_server
	run -1 --separate-stderr "$CHATC" 127.0.0.1 "$port"
	same "chatc: 127.0.0.1 $port: Connection refused" "$stderr"
	same "" "$output"
}

@test "pipe mode: a line is sent, acknowledged, broadcast; exit 0 after the half-close" {
	start_server
	join A
	run -0 --separate-stderr "$CHATC" 127.0.0.1 "$TCP_PORT" <<<'hello there'
	connected_addr A
	expect A "Client ($ADDR) said: hello there"
	expect A "Client ($ADDR) left"
	same "Welcome, Client ($ADDR).
Please enter your message.
\"hello there\" received by the server" "$output"
	same "" "$stderr"
}

@test "pipe mode: -n sets the nickname before the first line" {
	start_server
	join A
	run -0 --separate-stderr "$CHATC" -n alice 127.0.0.1 "$TCP_PORT" \
	    <<<'hi all'
	connected_addr A
	expect A "Client ($ADDR) is now known as alice"
	expect A "alice said: hi all"
	expect A "alice left"
	same "Welcome, Client ($ADDR).
Please enter your message.
ok: you are now alice
\"hi all\" received by the server" "$output"
}

@test "pipe mode: localhost resolves, and a last line without LF is sent" {
	start_server
	run -0 --separate-stderr bash -c \
	    'printf "one\ntwo" | "$1" localhost "$2"' _ "$CHATC" "$TCP_PORT"
	same '"one" received by the server
"two" received by the server' "$(sed -n '3,$p' <<<"$output")"
	same "" "$stderr"
}

@test "pipe mode: escape sequences and control bytes from the server never reach stdout" {
	fake_server -N
	printf 'A\033[2JB\033]2;pwned\007C\033cD\302\2332JE\n' >&"$FAKE_FD"
	printf '\ttab\001\377x\r\nno newline at the end' >&"$FAKE_FD"
	exec {FAKE_FD}>&-
	FAKE_FD=
	run -0 --separate-stderr "$CHATC" 127.0.0.1 "$FAKE_PORT" </dev/null
	same "ABCD2JE
 tab?x
no newline at the end" "$output"
	same "" "$stderr"
}

@test "pipe mode: the server shutting down ends chatc with status 0" {
	local dir="$BATS_TEST_TMPDIR" pid rc=0 w
	start_server
	mkfifo "$dir/in"
	"$CHATC" 127.0.0.1 "$TCP_PORT" <"$dir/in" >"$dir/out" 2>"$dir/err" \
	    3>&- &
	pid=$!
	exec {w}>"$dir/in"
	wait_for grep -q 'Please enter your message.' "$dir/out"
	stop_server
	wait_for not_running "$pid"
	wait "$pid" || rc=$?
	exec {w}>&-
	[ "$rc" -eq 0 ]
	same "Server shutting down" "$(tail -n 1 "$dir/out")"
	same "" "$(cat "$dir/err")"
}

@test "-u: the reply is printed, exit ends the client" {
	start_server
	run -0 --separate-stderr "$CHATC" -u 127.0.0.1 "$UDP_PORT" \
	    <<<$'hello\nexit\nnot read'
	[ "${#lines[@]}" -eq 3 ]
	same "$PROMPT" "${lines[0]}"
	[[ ${lines[1]} =~ ^Server\ response:\ Message\ received\ at\ [A-Z][a-z]{2}\ [A-Z][a-z]{2}\ [\ 0-9][0-9]\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ [0-9]{4}$ ]]
	same "$PROMPT" "${lines[2]}"
	same "" "$stderr"
}

@test "-u: more than 140 bytes is refused with too long message, 140 is sent" {
	local ok long
	ok=$(printf '%0140d' 0)
	long=$(printf '%0141d' 0)
	start_server
	run -0 "$CHATC" -u localhost "$UDP_PORT" <<<"$long
$ok"
	# The end of input after the second message ends the client.
	[ "${#lines[@]}" -eq 5 ]
	same "$PROMPT" "${lines[0]}"
	same "too long message" "${lines[1]}"
	same "$PROMPT" "${lines[2]}"
	[[ ${lines[3]} =~ ^Server\ response:\ Message\ received\ at\  ]]
	same "$PROMPT" "${lines[4]}"
}

@test "-u: a closed port gives Error: Connection refused and the prompt again" {
	local port
	start_server
	port=$UDP_PORT
	stop_server
	run -0 "$CHATC" -u 127.0.0.1 "$port" <<<$'hello\nexit'
	same "$PROMPT
Error: Connection refused
$PROMPT" "$output"
}

@test "-u: no reply within 5 seconds gives Error: timed out" {
	fake_server -d -u
	run -0 "$CHATC" -u 127.0.0.1 "$FAKE_PORT" <<<$'anyone?\nexit'
	same "$PROMPT
Error: timed out
$PROMPT" "$output"
	same "anyone?" "$(cat "$BATS_TEST_TMPDIR/fake.out")"
}

@test "terminal: a line that arrives leaves the half-typed line intact" {
	local before
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys -l 'half typed'
	wait_for last_line_is '> half typed'
	join B
	say B 'hello from B'
	expect B '"hello from B" received by the server'
	wait_for pane_has "said: hello from B"
	before=$(screen)
	cursor_at 12
	keys -l ' line'
	keys Enter
	read_line B
	[[ $LINE =~ ^Client\ \((.*)\)\ said:\ half\ typed\ line$ ]]
	same "pane: ready
Welcome, Client (${BASH_REMATCH[1]}).
Please enter your message.
Client ($ADDR_B) connected
Client ($ADDR_B) said: hello from B
> half typed" "$before"
}

@test "terminal: an incoming ESC[2J neither clears the screen nor retitles it" {
	fake_server
	printf 'A\033[2J\033[HB\033]2;pwned\007C\033cD\033[31mE\n' >&"$FAKE_FD"
	in_pane 127.0.0.1 "$FAKE_PORT"
	wait_for pane_has 'ABCDE'
	wait_for last_line_is '>'
	same "pane: ready
ABCDE
>" "$(screen)"
	[ "$(tm display -p '#{pane_title}')" != pwned ]
	cursor_at 2
}

@test "terminal: editing keys work on whole UTF-8 characters" {
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys -l 'world'; keys Home; keys -l 'hello '; keys End; keys -l '!'
	keys Enter
	keys -l 'abc def'; keys C-w; keys -l 'xyz'; keys Enter
	keys -l 'garbage'; keys C-u; keys -l 'clean'; keys Enter
	keys -l 'abcdef'; keys C-a Right Right C-k; keys -l 'XY'; keys Left DC
	keys Enter
	keys -l 'héllo wörld'; keys Left Left Left BSpace; keys -l 'o'
	keys Enter
	keys -l 'x日本y'
	wait_for cursor_at 8
	keys Left Left
	wait_for cursor_at 5
	keys BSpace
	wait_for last_line_is '> x本y'
	cursor_at 3
	keys Enter
	wait_for pane_has '"x本y" received by the server'
	same '"hello world!" received by the server
"abc xyz" received by the server
"clean" received by the server
"abX" received by the server
"héllo world" received by the server
"x本y" received by the server' "$(screen | grep 'received by the server')"
	keys -l '/quit'; keys Enter
	wait_for pane_has 'Goodbye.'
	expect_restored 0
}

@test "terminal: Up and Down walk the history and bring back the typed line" {
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys -l 'one'; keys Enter; keys -l 'two'; keys Enter
	keys -l 'three'; keys Enter
	wait_for pane_has '"three" received by the server'
	keys -l 'draft'
	keys Up
	wait_for last_line_is '> three'
	keys Up
	wait_for last_line_is '> two'
	keys Down Down
	wait_for last_line_is '> draft'
	keys Up Up Up Up Up
	wait_for last_line_is '> one'
	keys Down
	wait_for last_line_is '> two'
	keys Enter
	wait_for last_line_is '>'
	same '"one" received by the server
"two" received by the server
"three" received by the server
"two" received by the server' "$(screen | grep 'received by the server')"
}

@test "terminal: a long line scrolls horizontally and SIGWINCH redraws it" {
	local long
	long=$(printf '0123456789%.0s' {1..15})
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys -l "$long"
	# 100 columns: the prompt, 96 characters, the cursor, a free column.
	wait_for last_line_is "> ${long:54}"
	cursor_at 98
	keys Home
	wait_for last_line_is "> ${long:0:97}"
	cursor_at 2
	keys End
	wait_for last_line_is "> ${long:54}"
	tm resize-window -x 50
	wait_for last_line_is "> ${long:104}"
	cursor_at 48
	keys Enter
	wait_for pane_has "\"$long\" received by the server"
}

@test "terminal: Ctrl-D on an empty line exits 0 and restores the terminal" {
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys -l 'x'; keys C-d		# not empty: deletes (nothing here)
	keys BSpace C-d
	expect_restored 0
}

@test "terminal: SIGTERM restores the terminal, then chatc dies of it" {
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys -l 'half typed'
	wait_for last_line_is '> half typed'
	kill -TERM "$(chatc_pid)"
	expect_restored 143
}

@test "terminal: Ctrl-C restores the terminal, then chatc dies of SIGINT" {
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys C-c
	expect_restored 130
}

@test "terminal: the server going away ends chatc with status 0, terminal restored" {
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys -l 'half typed'
	wait_for last_line_is '> half typed'
	stop_server
	wait_for pane_has 'Server shutting down'
	expect_restored 0
}
