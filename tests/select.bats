#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatd-select: its command line, ready line, limits and stop.  The
# protocol files (framing, sanitize, commands, udp, lifecycle) run
# against it too: tests/run runs them a second time with SERVER set.

load helpers

setup() {
	SERVER=$CHATD_SELECT
}

@test "-h prints the usage to stdout and exits 0" {
	run --separate-stderr -0 "$CHATD_SELECT" -h
	[ "${lines[0]}" = "usage: chatd-select [-1hvV] [-b address] [-p port] [-u port|none]" ]
	[ "${lines[1]}" = "                    [-a max-per-address] [-m max-clients] [-q sendq]" ]
	[ "${lines[2]}" = "                    [-r rate]" ]
	[ "${#lines[@]}" -eq 3 ]
	[ -z "$stderr" ]
}

@test "-V prints the version" {
	run --separate-stderr -0 "$CHATD_SELECT" -V
	[[ "$output" =~ ^chatd-select\ [0-9]+\.[0-9]+$ ]]
}

# bad_value OPTION VALUE MESSAGE: exit 2, the message, then the usage.
bad_value() {
	run --separate-stderr -2 "$CHATD_SELECT" "$1" "$2"
	[ -z "$output" ]
	local first=${stderr%%$'\n'*}
	[ "$first" = "$3" ] || { echo "# got: $first" >&2; return 1; }
	[[ "$stderr" == *$'\n'"usage: chatd-select"* ]]
}

@test "bad option values are named, with the usage, exit 2" {
	bad_value -p 70000 "chatd-select: invalid port: 70000"
	bad_value -p x "chatd-select: invalid port: x"
	bad_value -u abc "chatd-select: invalid udp port: abc"
	bad_value -b localhost "chatd-select: invalid bind address: localhost"
	bad_value -m 0 "chatd-select: invalid max-clients: 0"
	bad_value -a x "chatd-select: invalid max-per-address: x"
	bad_value -a 1000001 "chatd-select: invalid max-per-address: 1000001"
	bad_value -q 1z "chatd-select: invalid send queue size: 1z"
	bad_value -r fast "chatd-select: invalid rate: fast"
}

@test "an unknown option or a stray argument gives the usage, exit 2" {
	run --separate-stderr -2 "$CHATD_SELECT" -w 2
	[[ "$stderr" == *"invalid option"*"usage: chatd-select"* ]]
	run --separate-stderr -2 "$CHATD_SELECT" extra
	[[ "$stderr" == "chatd-select: unexpected argument: extra"$'\n'"usage: chatd-select"* ]]
}

@test "a port that is taken is a clear error, exit 1" {
	start_server
	run --separate-stderr -1 "$CHATD_SELECT" -b 127.0.0.1 -p "$TCP_PORT"
	[ "$stderr" = "chatd-select: bind tcp 127.0.0.1:$TCP_PORT: Address already in use" ]
	run --separate-stderr -1 "$CHATD_SELECT" -b 127.0.0.1 -p 0 -u "$UDP_PORT"
	[ "$stderr" = "chatd-select: bind udp 127.0.0.1:$UDP_PORT: Address already in use" ]
	stop_server
}

@test "the ready line names both real ports, once" {
	start_server
	[ "$(grep -c 'ready' "$BATS_TEST_TMPDIR/server.log")" -eq 1 ]
	grep -qx "chatd-select: ready tcp=127.0.0.1:$TCP_PORT udp=127.0.0.1:$TCP_PORT" \
	    "$BATS_TEST_TMPDIR/server.log"
	stop_server
}

@test "-u none turns the UDP service off" {
	start_server -u none
	grep -qx "chatd-select: ready tcp=127.0.0.1:$TCP_PORT udp=none" \
	    "$BATS_TEST_TMPDIR/server.log"
	join a
	stop_server
}

# welcome_or_full NAME: read NAME's first line; 0 and ADDR_NAME set after
# a welcome, 1 after "error: server full", 2 for anything else.
welcome_or_full() {
	read_line "$1" || return 2
	[ "$LINE" = "error: server full" ] && return 1
	[[ "$LINE" =~ ^Welcome,\ Client\ \((127\.0\.0\.1:[0-9]+)\)\.$ ]] || {
		echo "# $1: bad welcome '$LINE'" >&2
		return 2
	}
	printf -v "ADDR_$1" '%s' "${BASH_REMATCH[1]}"
	expect "$1" "Please enter your message."
}

# fill_up MAX: connect c1, c2, ... until one is told "error: server
# full", at most MAX of them; FULL is its number, and every client
# before it was welcomed.
fill_up() {
	local i rc
	for ((i = 1; i <= $1; i++)); do
		connect "c$i"
		rc=0
		welcome_or_full "c$i" || rc=$?
		[ "$rc" -ne 2 ] || return 1
		if [ "$rc" -eq 1 ]; then
			FULL=$i
			return 0
		fi
	done
	echo "# $1 clients and none refused" >&2
	return 1
}

# hold N FILE: in the background, open N clients that never read, then
# create FILE; exit when the server closes the first one.  A separate
# process, because bash's read -t uses select() itself and aborts on a
# descriptor of FD_SETSIZE or more.
hold() {
	(
		# Its failures are reported through FILE, not bats' trap.
		trap - ERR
		set +e
		local i fd first=
		for ((i = 0; i < $1; i++)); do
			exec {fd}<>"/dev/tcp/127.0.0.1/$TCP_PORT" || exit 1
			first=${first:-$fd}
		done
		: >"$2"
		while IFS= read -r -u "$first" _; do :; done
	) 3>&- &
	HOLDER_PID=$!
}

@test "FD_SETSIZE: the client past it gets 'error: server full', the others go on" {
	local held=900 i n=0 rc a
	# More descriptors than an fd_set holds, for the server and the
	# process holding the clients.
	ulimit -n 2048 2>/dev/null || skip "cannot raise ulimit -n to 2048"
	# All from 127.0.0.1: no per-address limit (-a 0).
	start_server -r 0 -v -a 0
	hold "$held" "$BATS_TEST_TMPDIR/held"
	wait_for test -e "$BATS_TEST_TMPDIR/held"
	# Then more clients until the server's descriptors pass FD_SETSIZE.
	fill_up 200
	i=$FULL
	n=$((FULL - 1))
	echo "# $((held + n)) clients fit below FD_SETSIZE" >&3
	[ "$n" -ge 1 ] && [ "$i" -eq $((n + 1)) ]
	# Every descriptor below 1024 but the server's own few is a client.
	[ $((held + n)) -ge 1000 ] && [ $((held + n)) -lt 1024 ]
	expect_eof "c$i"
	[ "$(grep -cE '^chatd-select: 127\.0\.0\.1:[0-9]+ refused: server full$' \
	    "$BATS_TEST_TMPDIR/server.log")" -eq 1 ]
	# The others still talk, and all of them are still there.
	for ((i = 2; i <= n; i++)); do
		a="ADDR_c$i"
		expect c1 "Client (${!a}) connected"
	done
	say "c$n" "still here"
	expect "c$n" '"still here" received by the server'
	a="ADDR_c$n"
	expect c1 "Client (${!a}) said: still here"
	say c1 "/who"
	expect c1 "who: $((held + n)) connected"
	for ((i = 1; i <= held + n; i++)); do
		read_line c1
		[[ "$LINE" =~ ^who:\ Client\ \(127\.0\.0\.1:[0-9]+\)$ ]]
	done
	# A client that leaves makes room for a new one.
	disconnect "c$n"
	expect c1 "Client (${!a}) left"
	join late
	expect c1 "Client ($ADDR_late) connected"
	stop_server
	wait "$HOLDER_PID"
}

@test "out of descriptors (EMFILE): server full, then room again" {
	local log=$BATS_TEST_TMPDIR/server.log i n=0 rc a
	launch with_nofile 20 "$CHATD_SELECT" -b 127.0.0.1 -p 0
	fill_up 20
	i=$FULL
	n=$((FULL - 1))
	[ "$n" -ge 1 ] && [ "$i" -eq $((n + 1)) ]
	expect_eof "c$i"
	for ((i = 2; i <= n; i++)); do
		a="ADDR_c$i"
		expect c1 "Client (${!a}) connected"
	done
	# The spare descriptor was taken back: the next one is refused too.
	connect again
	expect again "error: server full"
	expect_eof again
	say c1 "still fine"
	expect c1 '"still fine" received by the server'
	a="ADDR_c$n"
	disconnect "c$n"
	expect c1 "Client (${!a}) left"
	join late
	expect c1 "Client ($ADDR_late) connected"
	run -1 grep -q 'not accepting' "$log"
	stop_server
}

@test "SIGHUP stops it cleanly: 'Server shutting down', exit 0" {
	start_server
	join a
	join b
	expect a "Client ($ADDR_b) connected"
	kill -HUP "$SERVER_PID"
	expect a "Server shutting down"
	expect_eof a
	expect b "Server shutting down"
	expect_eof b
	wait_for not_running "$SERVER_PID"
	run -0 wait "$SERVER_PID"
	SERVER_PID=
	grep -qx "chatd-select: stopped" "$BATS_TEST_TMPDIR/server.log"
}

@test "SIGTERM: stop_server sees exit status 0 and a clean log" {
	start_server -v
	join a
	stop_server
	[ "$SERVER_STATUS" -eq 0 ]
	expect a "Server shutting down"
	expect_eof a
	log_has "^chatd-select: $ADDR_a connected \(id 1\)$"
}

@test "listening on ::1 shows IPv6 addresses in brackets" {
	[ -e /proc/net/if_inet6 ] || skip "no IPv6 on this machine"
	local log="$BATS_TEST_TMPDIR/server.log" fd
	launch "$CHATD_SELECT" -b ::1 -p 0
	grep -qx "chatd-select: ready tcp=\[::1\]:$TCP_PORT udp=\[::1\]:$TCP_PORT" "$log"
	exec {fd}<>"/dev/tcp/::1/$TCP_PORT"
	FD_v6=$fd
	read_line v6
	[[ "$LINE" =~ ^Welcome,\ Client\ \(\[::1\]:[0-9]+\)\.$ ]]
	stop_server
}

# upto DIR NAME LINE: read NAME's lines into DIR/NAME.raw until LINE,
# which must come within the deadline.
upto() {
	while read_line "$2"; do
		printf '%s\n' "$LINE" >>"$1/$2.raw"
		[ "$LINE" = "$3" ] && return 0
	done
	echo "# $2: no '$3'" >&2
	return 1
}

# session DIR: three clients go through every kind of line the protocol
# has; each step waits for its reply, so the order is the protocol's.
# Each one's lines after its welcome go to DIR/NAME, every client
# address replaced by the client's name.
session() {
	local d=$1 n
	mkdir -p "$d"
	join a
	join b
	join c
	say a "hello, all"
	upto "$d" a '"hello, all" received by the server'
	say b "/nick bob"
	upto "$d" b "ok: you are now bob"
	say c "/who"
	upto "$d" c "who: 3 connected"
	for n in 1 2 3; do
		read_line c
		printf '%s\n' "$LINE" >>"$d/c.raw"
	done
	say a "/msg bob psst"
	upto "$d" a "ok: sent to bob"
	say b "//slash"
	upto "$d" b '"/slash" received by the server'
	say c "/quit bye"
	upto "$d" c "Goodbye."
	expect_eof c
	upto "$d" a "Client ($ADDR_c) left (bye)"
	upto "$d" b "Client ($ADDR_c) left (bye)"
	for n in a b c; do
		sed -e "s/$ADDR_a/<a>/g" -e "s/$ADDR_b/<b>/g" \
		    -e "s/$ADDR_c/<c>/g" "$d/$n.raw" >"$d/$n"
	done
}

@test "-1 (the seed's delivery): the same lines as the batching loop" {
	local dir=$BATS_TEST_TMPDIR
	start_server
	session "$dir/batched"
	stop_server
	start_server -1
	grep -qx "chatd-select: delivering one send() per recipient per line (-1)" \
	    "$BATS_TEST_TMPDIR/server.log"
	session "$dir/one"
	stop_server
	diff "$dir/batched/a" "$dir/one/a"
	diff "$dir/batched/b" "$dir/one/b"
	diff "$dir/batched/c" "$dir/one/c"
	# And they are the protocol's lines (the others' welcomes were read).
	diff - "$dir/one/a" <<-'EOF'
	Client (<b>) connected
	Client (<c>) connected
	"hello, all" received by the server
	Client (<b>) is now known as bob
	ok: sent to bob
	bob said: /slash
	Client (<c>) left (bye)
	EOF
	diff - "$dir/one/b" <<-'EOF'
	Client (<c>) connected
	Client (<a>) said: hello, all
	ok: you are now bob
	Client (<a>) whispers: psst
	"/slash" received by the server
	Client (<c>) left (bye)
	EOF
	diff - "$dir/one/c" <<-'EOF'
	Client (<a>) said: hello, all
	Client (<b>) is now known as bob
	who: 3 connected
	who: Client (<a>)
	who: bob (<b>)
	who: Client (<c>)
	bob said: /slash
	Goodbye.
	EOF
}

@test "-1: every client sees one order, each sender's lines in sequence" {
	local i r v dir=$BATS_TEST_TMPDIR pids=()
	start_server -1 -r 0
	for i in 1 2 3; do
		join "s$i"
		say "s$i" "/nick s$i"
	done
	join r1
	join r2
	for i in 1 2 3; do
		while read_line "s$i"; do
			[ "$LINE" = "ok: you are now s$i" ] && break
		done
	done
	for i in 1 2 3; do
		v=FD_s$i
		in_background eval 'seq 1 100 | sed "s/^/m /"' >&"${!v}"
		pids+=("$BG_PID")
	done
	wait "${pids[@]}"
	for r in r1 r2; do
		: >"$dir/$r"
		while [ "$(wc -l <"$dir/$r")" -lt 300 ]; do
			read_line "$r"
			case $LINE in
			*" said: "*) printf '%s\n' "$LINE" >>"$dir/$r" ;;
			esac
		done
	done
	cmp "$dir/r1" "$dir/r2"
	for i in 1 2 3; do
		grep "^s$i said: " "$dir/r1" | sed 's/.* m //' | cmp - <(seq 1 100)
	done
	stop_server
}

@test "-1: a client that stops reading holds the server up, then is dropped" {
	# A send() to slow blocks until the server gives up on it.
	start_server -1 -r 0
	slow_reader_dropped
	stop_server
}
