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

USAGE='usage: chatc [-hrV] [-n nick] host [port]
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
	rm -f "$dir/fake.in"
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
# and the flags that a raw mode left behind would have changed.  The
# clock is fixed at 12:01, colour is off and the history file is the
# test's own, unless PANE_ENV (NAME=VALUE words) says otherwise.
in_pane() {
	local script="$BATS_TEST_TMPDIR/pane.sh" args="" a

	command -v tmux >/dev/null || skip "tmux is not installed"
	for a in env LC_ALL=C.UTF-8 CHATC_CLOCK=12:01 NO_COLOR=1 \
	    XDG_STATE_HOME="$BATS_TEST_TMPDIR/state" ${PANE_ENV:-} \
	    "$CHATC" "$@"; do
		args+=" $(printf '%q' "$a")"
	done
	cat >"$script" <<-EOF
	before=\$(stty -g)
	echo "pane: ready"
	sh -c 'echo \$\$ >"$BATS_TEST_TMPDIR/chatc.pid"; exec "\$@"' sh$args
	echo "rc=\$?"
	[ "\$(stty -g)" = "\$before" ] && echo "tty: restored" || echo "tty: changed"
	echo "stty: \$(stty -a | tr ' ;' '\n\n' |
	    grep -Ex -- '-?(icrnl|opost|isig|icanon|echo)' | paste -sd ' ')"
	exec cat
	EOF
	mkdir -p "$BATS_TEST_TMPDIR/state"
	tm new-session -d -x 100 -y 30 "LC_ALL=C.UTF-8 bash $script"
}

# The prompt of a chatc connected to the test's server, as NICK.
prompt() {
	printf '%s127.0.0.1:%s> ' "${1:+$1@}" "$TCP_PORT"
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

# last_line_is LINE: the screen's last line; tmux drops trailing blanks.
last_line_is() {
	local want=$1
	while [ "${want% }" != "$want" ]; do want=${want% }; done
	[ "$(screen | tail -n 1)" = "$want" ]
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
	    "missing host or port|-u localhost"
	    "too many arguments|localhost 1 2"
	    "unknown option -x|-x localhost 1"
	    "option -n needs an argument|-n"
	    "invalid port: 0|localhost 0"
	    "invalid port: 65536|localhost 65536"
	    "invalid port: http|localhost http"
	    "invalid nickname: 9lives|-n 9lives localhost 1"
	    "invalid nickname: a_name_far_too_long|-n a_name_far_too_long localhost 1"
	    "-n cannot be used with -u|-u -n bob localhost 1"
	    "-r cannot be used with -u|-u -r localhost 1"
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
	local before p
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	p=$(prompt)
	wait_for pane_has 'Please enter your message.'
	keys -l 'half typed'
	wait_for last_line_is "${p}half typed"
	join B
	say B 'hello from B'
	expect B '"hello from B" received by the server'
	wait_for pane_has "> hello from B"
	before=$(screen)
	cursor_at $((${#p} + 10))
	keys -l ' line'
	keys Enter
	read_line B
	[[ $LINE =~ ^Client\ \((.*)\)\ said:\ half\ typed\ line$ ]]
	local me=${BASH_REMATCH[1]}
	same "pane: ready
12:01 -- Welcome, Client ($me).
12:01 -- Please enter your message.
12:01 -- history: 1 lines
      -- Client ($me) connected
12:01 -- Client ($ADDR_B) connected
12:01 <Client ($ADDR_B)> hello from B
${p}half typed" "$before"
	wait_for pane_has "<Client ($me)> half typed line"
}

@test "terminal: lines for people: times, <nick>, own lines on acknowledgment, actions, whispers, notices" {
	start_server
	join B
	say B "/nick bob"
	expect B "ok: you are now bob"
	in_pane -n alice 127.0.0.1 "$TCP_PORT"
	connected_addr B
	expect B "Client ($ADDR) is now known as alice"
	wait_for last_line_is "$(prompt alice)"
	say B "hi all"
	expect B '"hi all" received by the server'
	say B "/me waves"
	expect B "ok: action sent"
	say B "/msg alice psst"
	expect B "ok: sent to alice"
	wait_for pane_has "*bob* psst"
	keys -l 'hello bob'; keys Enter
	expect B "alice said: hello bob"
	keys -l '/me nods'; keys Enter
	expect B "* alice nods"
	keys -l '/msg bob  a  secret '; keys Enter
	expect B "alice whispers: a  secret"
	keys -l '/nick 9'; keys Enter
	keys -l '/who'; keys Enter
	wait_for pane_has "who: bob ($ADDR_B)"
	same "pane: ready
12:01 -- Welcome, Client ($ADDR).
12:01 -- Please enter your message.
12:01 -- history: 3 lines
      -- Client ($ADDR_B) connected
      -- Client ($ADDR_B) is now known as bob
      -- Client ($ADDR) connected
12:01 -- ok: you are now alice
12:01 <bob> hi all
12:01 * bob waves
12:01 *bob* psst
12:01 <alice> hello bob
12:01 * alice nods
12:01 -> *bob* a  secret
12:01 -! error: invalid nickname
12:01 -- who: 2 connected" "$(screen | sed -n '1,16p')"
}

@test "terminal: an incoming ESC[2J neither clears the screen nor retitles it" {
	fake_server
	printf 'A\033[2J\033[HB\033]2;pwned\007C\033cD\033[31mE\n' >&"$FAKE_FD"
	in_pane 127.0.0.1 "$FAKE_PORT"
	wait_for pane_has 'ABCDE'
	wait_for last_line_is "127.0.0.1:$FAKE_PORT>"
	same "pane: ready
12:01 -- ABCDE
127.0.0.1:$FAKE_PORT>" "$(screen)"
	[ "$(tm display -p '#{pane_title}')" != pwned ]
	cursor_at $((${#FAKE_PORT} + 12))
}

@test "terminal and pipe mode: bidi controls and invisible characters from the network are removed" {
	# U+202E, U+2066, U+200B, U+2028, U+FEFF, U+2060 and a tag character.
	local evil='a\342\200\256b\342\201\246c\342\200\213d\342\200\250e\357\273\277f\342\201\240g\363\240\200\201h\n'
	fake_server
	printf "$evil" >&"$FAKE_FD"
	in_pane 127.0.0.1 "$FAKE_PORT"
	wait_for pane_has '-- abcdefgh'
	exec {FAKE_FD}>&-
	FAKE_FD=
	kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null || true
	FAKE_PID=
	fake_server -N
	printf "$evil" >&"$FAKE_FD"
	exec {FAKE_FD}>&-
	FAKE_FD=
	run -0 --separate-stderr "$CHATC" 127.0.0.1 "$FAKE_PORT" </dev/null
	same "abcdefgh" "$output"
}

@test "terminal and pipe mode: a server line over 4 KiB is shown whole" {
	local long
	long=$(printf 'x%.0s' {1..5000})
	fake_server -N
	printf '%s\nend\n' "$long" >&"$FAKE_FD"
	exec {FAKE_FD}>&-
	FAKE_FD=
	run -0 --separate-stderr "$CHATC" 127.0.0.1 "$FAKE_PORT" </dev/null
	same "$long
end" "$output"
	fake_server
	printf '%s\nend\n' "$long" >&"$FAKE_FD"
	in_pane 127.0.0.1 "$FAKE_PORT"
	wait_for pane_has '-- end'
	same "12:01 -- $long" "$(tm capture-pane -p -J -S - | grep -- '-- x')"
}

@test "terminal: editing keys work on whole UTF-8 characters" {
	local p
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	p=$(prompt)
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
	wait_for cursor_at $((${#p} + 6))
	keys Left Left
	wait_for cursor_at $((${#p} + 3))
	keys BSpace
	wait_for last_line_is "${p}x本y"
	cursor_at $((${#p} + 1))
	keys Enter
	wait_for pane_has '> x本y'
	same 'hello world!
abc xyz
clean
abX
héllo world
x本y' "$(screen | sed -n 's/^12:01 <Client ([^)]*)> //p')"
	keys -l '/quit'; keys Enter
	wait_for pane_has 'Goodbye.'
	expect_restored 0
}

@test "terminal: Up and Down walk the history and bring back the typed line" {
	local p
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	p=$(prompt)
	wait_for pane_has 'Please enter your message.'
	keys -l 'one'; keys Enter; keys -l 'two'; keys Enter
	keys -l 'three'; keys Enter
	wait_for pane_has '> three'
	keys -l 'draft'
	keys Up
	wait_for last_line_is "${p}three"
	keys Up
	wait_for last_line_is "${p}two"
	keys Down Down
	wait_for last_line_is "${p}draft"
	keys Up Up Up Up Up
	wait_for last_line_is "${p}one"
	keys Down
	wait_for last_line_is "${p}two"
	keys Enter
	wait_for last_line_is "$p"
	wait_for test "$(screen | grep -c '> two$')" -eq 2
	same 'one
two
three
two' "$(screen | sed -n 's/^12:01 <Client ([^)]*)> //p')"
}

@test "terminal: a long line scrolls horizontally and SIGWINCH redraws it" {
	local long p avail
	long=$(printf '0123456789%.0s' {1..15})
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	p=$(prompt)
	wait_for pane_has 'Please enter your message.'
	keys -l "$long"
	# 100 columns: the prompt, the text, the cursor, a free column.
	avail=$((99 - ${#p}))
	wait_for last_line_is "$p${long:150 - avail + 1}"
	cursor_at 98
	keys Home
	wait_for last_line_is "$p${long:0:avail}"
	cursor_at "${#p}"
	keys End
	wait_for last_line_is "$p${long:150 - avail + 1}"
	tm resize-window -x 50
	avail=$((49 - ${#p}))
	wait_for last_line_is "$p${long:150 - avail + 1}"
	cursor_at 48
	keys Enter
	wait_for pane_has "> $long"
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
	wait_for last_line_is "$(prompt)half typed"
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

@test "terminal: the server shutting down is said, the half-typed line stays, exit 1" {
	local p
	start_server
	in_pane -n alice 127.0.0.1 "$TCP_PORT"
	p=$(prompt alice)
	wait_for pane_has 'ok: you are now alice'
	keys -l 'half typed'
	wait_for last_line_is "${p}half typed"
	stop_server
	wait_for pane_has 'rc=1'
	same "12:01 -- Server shutting down
12:01 -- disconnected: server shutting down
[disconnected] ${p}half typed
rc=1" "$(screen | grep -A3 'Server shutting down')"
	expect_restored 1
}

@test "terminal: a server that closes the connection is said, exit 1" {
	fake_server -N
	printf 'bye now\n' >&"$FAKE_FD"
	exec {FAKE_FD}>&-
	FAKE_FD=
	in_pane 127.0.0.1 "$FAKE_PORT"
	wait_for pane_has 'rc=1'
	same "pane: ready
12:01 -- bye now
12:01 -- disconnected: connection closed by server
[disconnected] 127.0.0.1:$FAKE_PORT>
rc=1" "$(screen | head -n 5)"
	expect_restored 1
}

@test "terminal: a connection reset is said, exit 1" {
	local dir="$BATS_TEST_TMPDIR" go port
	command -v perl >/dev/null || skip "perl is not installed"
	mkfifo "$dir/go"
	# A server that says hello, then resets the connection (SO_LINGER 0).
	perl -MSocket -MIO::Socket::INET -e '
	    my $s = IO::Socket::INET->new(Listen => 1, ReuseAddr => 1,
		LocalAddr => "127.0.0.1", LocalPort => 0) or die "listen: $!";
	    open(my $p, ">", $ARGV[0]) or die; print $p $s->sockport, "\n";
	    close $p;
	    my $c = $s->accept or die "accept: $!";
	    print $c "hello\n"; $c->flush;
	    open(my $g, "<", $ARGV[1]) or die; <$g>;
	    setsockopt($c, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0));
	    close $c;' "$dir/port" "$dir/go" 3>&- &
	FAKE_PID=$!
	wait_for test -s "$dir/port"
	port=$(cat "$dir/port")
	in_pane 127.0.0.1 "$port"
	wait_for pane_has '-- hello'
	exec {go}>"$dir/go"
	echo >&"$go"
	exec {go}>&-
	wait_for pane_has 'rc=1'
	same "12:01 -- hello
12:01 -- disconnected: connection reset
[disconnected] 127.0.0.1:$port>
rc=1" "$(screen | sed -n '2,5p')"
}

@test "terminal: colours on a terminal, stable per nickname; none with NO_COLOR or TERM=dumb" {
	local line
	start_server
	join B
	say B "/nick bob"
	expect B "ok: you are now bob"
	PANE_ENV="NO_COLOR=" in_pane -n alice 127.0.0.1 "$TCP_PORT"
	connected_addr B
	expect B "Client ($ADDR) is now known as alice"
	wait_for pane_has 'ok: you are now alice'
	say B "one"
	say B "/me two"
	expect B '"one" received by the server'
	expect B "ok: action sent"
	wait_for pane_has '* bob two'
	# bob's colour: the same on both lines, and not red.
	line=$(tm capture-pane -p -e | grep -a 'one$')
	[[ $line =~ \<$'\e'\[([0-9;]+)mbob$'\e'\[ ]]
	local sgr=${BASH_REMATCH[1]}
	[ "$sgr" != 31 ] && [ "$sgr" != "1;31" ]
	tm capture-pane -p -e | grep -aqF "* "$'\e'"[${sgr}mbob"$'\e'
	# Notices are dim, errors bold red.
	tm capture-pane -p -e | grep -aqF $'\e[2m-- ok: you are now alice'
	keys -l '/nick 9'; keys Enter
	wait_for pane_has 'error: invalid nickname'
	line=$(tm capture-pane -p -e | grep -a 'error: invalid nickname')
	[[ $line == *$'\e[1m'*$'\e[31m-! error: invalid nickname'* ||
	    $line == *$'\e[1;31m-! error: invalid nickname'* ]]
	keys C-d
	expect_restored 0
	tm kill-server
	expect B "alice left"
	for PANE_ENV in NO_COLOR=1 TERM=dumb; do
		in_pane -n carol 127.0.0.1 "$TCP_PORT"
		connected_addr B
		expect B "Client ($ADDR) is now known as carol"
		wait_for pane_has 'ok: you are now carol'
		say B "three"
		expect B '"three" received by the server'
		wait_for pane_has '<bob> three'
		run -1 grep -c $'\e\\[' <(tm capture-pane -p -e | sed 's/\x1b\[[0-9;]*m$//')
		keys C-d
		expect_restored 0
		tm kill-server
		expect B "carol left"
	done
}

@test "terminal: -r reconnects after a server restart on the same port and claims the nickname again" {
	local port p
	start_server
	port=$TCP_PORT
	in_pane -r -n alice 127.0.0.1 "$port"
	p=$(prompt alice)
	wait_for last_line_is "$p"
	keys -l 'draft'
	wait_for last_line_is "${p}draft"
	stop_server
	wait_for pane_has 'disconnected: server shutting down'
	wait_for pane_has 'reconnecting in 1 s (/reconnect: now)'
	wait_for last_line_is "[connecting] ${p}draft"
	launch "$SERVER" -b 127.0.0.1 -p "$port"
	join B
	# The back-off is 1 s, then 2 s: bounded by DEADLINE.
	connected_addr B
	expect B "Client ($ADDR) is now known as alice"
	wait_for last_line_is "${p}draft"
	keys Enter
	expect B "alice said: draft"
	wait_for pane_has '<alice> draft'
	[ "$(screen | grep -c -- '-- ok: you are now alice$')" -eq 2 ]
	screen | grep -q "^12:01 -- connected to 127.0.0.1 $port$"
	# /reconnect while connected: a new connection, the same name.
	keys -l '/reconnect'; keys Enter
	expect B "alice left (reconnecting)"
	connected_addr B
	expect B "Client ($ADDR) is now known as alice"
	wait_for test "$(screen | grep -c -- '-- ok: you are now alice$')" -eq 3
	keys -l '/quit'; keys Enter
	expect B "alice left"
	expect_restored 0
}

@test "terminal: -r while disconnected: a typed line stays, /quit exits 0" {
	local port p
	start_server -w 1
	port=$TCP_PORT
	in_pane -r 127.0.0.1 "$port"
	p=$(prompt)
	wait_for pane_has 'Please enter your message.'
	stop_server
	wait_for last_line_is "[connecting] $p"
	# Nothing listens: each try waits twice as long; /reconnect tries now.
	wait_for pane_has "-- 127.0.0.1 $port: Connection refused; retrying in 2 s"
	keys -l '/reconnect'; keys Enter
	wait_for pane_has "-- 127.0.0.1 $port: Connection refused; retrying in 4 s"
	keys -l 'kept'; keys Enter
	wait_for pane_has '-- not connected: /reconnect to try now, /quit to leave'
	wait_for last_line_is "[connecting] ${p}kept"
	keys C-u; keys -l '/quit'; keys Enter
	expect_restored 0
}

@test "terminal: Tab completes commands and the nicknames seen" {
	local p
	start_server
	join B
	say B "/nick bob"
	expect B "ok: you are now bob"
	join C
	expect B "Client ($ADDR_C) connected"
	say C "/nick bobby"
	expect C "ok: you are now bobby"
	expect B "Client ($ADDR_C) is now known as bobby"
	in_pane 127.0.0.1 "$TCP_PORT"
	p=$(prompt)
	connected_addr B
	connected_addr C
	wait_for pane_has 'Please enter your message.'
	# The names come from the history of renames and from /who.
	keys -l '/wh'; keys Tab
	wait_for last_line_is "${p}/who"
	keys Enter
	wait_for pane_has "who: bobby ($ADDR_C)"
	keys -l '/ms'; keys Tab
	wait_for last_line_is "${p}/msg"
	keys -l 'BOBB'; keys Tab
	wait_for last_line_is "${p}/msg bobby"
	keys -l 'hi'; keys Enter
	expect C "Client ($ADDR) whispers: hi"
	keys -l 'bo'; keys Tab
	# Two candidates: the common part, then the list.
	wait_for last_line_is "${p}bob"
	keys Tab
	wait_for pane_has '-- bob bobby'
	keys -l 'b'; keys Tab
	wait_for last_line_is "${p}bobby: "
	keys C-u; keys -l 'xyz'; keys Tab
	wait_for last_line_is "${p}xyz"
	# A name that leaves is forgotten.
	say C "/quit"
	expect B "bobby left"
	wait_for pane_has '-- bobby left'
	keys C-u; keys -l 'bo'; keys Tab
	wait_for last_line_is "${p}bob: "
}

@test "terminal: -n NAME with NAME taken tries NAME_, then tells you" {
	start_server
	join B
	say B "/nick alice"
	expect B "ok: you are now alice"
	in_pane -n alice 127.0.0.1 "$TCP_PORT"
	wait_for last_line_is "$(prompt alice_)"
	same "12:01 -! error: nickname in use
12:01 -- alice is taken, trying alice_
12:01 -- ok: you are now alice_" "$(screen | tail -n 4 | head -n 3)"
	keys C-d
	expect_restored 0
	tm kill-server
	join C
	say C "/nick alice_"
	expect C "ok: you are now alice_"
	in_pane -n alice 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'choose one'
	same "12:01 -! error: nickname in use
12:01 -- alice is taken, trying alice_
12:01 -! error: nickname in use
12:01 -- alice_ is taken too; choose one with /nick NAME" "$(screen | tail -n 5 | head -n 4)"
	last_line_is "$(prompt)"
}

@test "terminal: a whisper or a line that names you rings the bell once" {
	start_server
	join B
	say B "/nick bob"
	expect B "ok: you are now bob"
	in_pane -n alice 127.0.0.1 "$TCP_PORT"
	tm pipe-pane -o "cat >>'$BATS_TEST_TMPDIR/raw'"
	connected_addr B
	expect B "Client ($ADDR) is now known as alice"
	wait_for last_line_is "$(prompt alice)"
	bells() { tr -cd '\007' <"$BATS_TEST_TMPDIR/raw" | wc -c; }
	say B "no name here, malice"
	say B "/msg alice psst"
	say B "hey ALICE, look"
	say B "/me pokes alice"
	keys -l 'alice is me'; keys Enter
	expect B '"no name here, malice" received by the server'
	expect B "ok: sent to alice"
	expect B '"hey ALICE, look" received by the server'
	expect B "ok: action sent"
	expect B "alice said: alice is me"
	wait_for pane_has '<alice> alice is me'
	same 3 "$(bells)"
}

@test "terminal: the history persists in XDG_STATE_HOME, mode 0600, 1000 lines" {
	local f="$BATS_TEST_TMPDIR/state/chatc/history" p
	start_server
	in_pane 127.0.0.1 "$TCP_PORT"
	p=$(prompt)
	wait_for pane_has 'Please enter your message.'
	keys -l 'first'; keys Enter; keys -l 'second'; keys Enter
	wait_for pane_has '> second'
	keys C-d
	expect_restored 0
	same "first
second" "$(cat "$f")"
	same 600 "$(stat -c %a "$f")"
	tm kill-server
	# 1005 lines: the oldest five are forgotten.
	seq 1 1005 | sed 's/^/line /' >"$f"
	chmod 644 "$f"
	in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys Up
	wait_for last_line_is "${p}line 1005"
	keys C-u C-d
	expect_restored 0
	same 1000 "$(wc -l <"$f")"
	same "line 6" "$(head -n 1 "$f")"
	same 600 "$(stat -c %a "$f")"
}

@test "terminal: without XDG_STATE_HOME the history is ~/.chatc_history" {
	start_server
	mkdir -p "$BATS_TEST_TMPDIR/home"
	printf 'from before\n' >"$BATS_TEST_TMPDIR/home/.chatc_history"
	PANE_ENV="XDG_STATE_HOME= HOME=$BATS_TEST_TMPDIR/home" \
	    in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys Up
	wait_for last_line_is "$(prompt)from before"
	keys Enter
	wait_for pane_has '> from before'
	keys C-d
	expect_restored 0
	same "from before" "$(cat "$BATS_TEST_TMPDIR/home/.chatc_history")"
	[ ! -e "$BATS_TEST_TMPDIR/state/chatc/history" ]
}

@test "terminal: a missing XDG_STATE_HOME directory is made, mode 0700" {
	local xdg="$BATS_TEST_TMPDIR/new-state"
	start_server
	PANE_ENV="XDG_STATE_HOME=$xdg" in_pane 127.0.0.1 "$TCP_PORT"
	wait_for pane_has 'Please enter your message.'
	keys -l 'kept'; keys Enter
	wait_for pane_has '> kept'
	keys C-d
	expect_restored 0
	same "kept" "$(cat "$xdg/chatc/history")"
	same "700 700" "$(stat -c %a "$xdg" "$xdg/chatc" | paste -sd ' ')"
}

@test "chatc HOST connects to port 8080" {
	# Only where nothing listens on 8080: the refusal names the port.
	if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
		skip "something listens on 127.0.0.1:8080"
	fi
	run -1 --separate-stderr "$CHATC" 127.0.0.1 </dev/null
	same "chatc: 127.0.0.1 8080: Connection refused" "$stderr"
}
