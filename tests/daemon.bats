#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatd as a packager ships it: startup failures reported before -d
# detaches, the pidfile, -U, the hub against other users and damage,
# a crash loop, SIGHUP, process titles, chatd -S on a dead server.

load helpers

HUB_DIR=/dev/shm

# hub_file PORT [ADDR]: the hub of the chatd on ADDR (127.0.0.1), PORT.
hub_file() {
	echo "$HUB_DIR/chatd-${2:-127.0.0.1}-$1"
}

# as_nobody CMD...: run CMD as uid and gid 65534 (needs root, setpriv).
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is not installed"
	getent passwd nobody >/dev/null || skip "no user nobody"
}

# a_free_port: a TCP port number a chatd just had, into PORT.
a_free_port() {
	start_server -w 1 -u none
	PORT=$TCP_PORT
	stop_server
	TCP_PORT=
}

@test "-d with a pidfile in a missing directory fails on the terminal, exit 1" {
	run --separate-stderr -1 "$CHATD" -d -b 127.0.0.1 -p 0 -P /no/such/dir/chatd.pid
	[ "$stderr" = "chatd: pidfile /no/such/dir/chatd.pid: No such file or directory" ]
	[ -z "$output" ]
}

@test "-d returns once the server is ready: the pidfile is there at once" {
	local pidfile=$BATS_TEST_TMPDIR/chatd.pid pid
	run --separate-stderr -0 "$CHATD" -d -b 127.0.0.1 -p 0 -w 2 -u none -P "$pidfile"
	[ -s "$pidfile" ]
	pid=$(cat "$pidfile")
	SERVER_PID=$pid
	# The ready line is the last thing the terminal sees.
	[[ "$stderr" =~ ^chatd:\ master:\ ready\ tcp=127\.0\.0\.1:[0-9]+\ udp=none\ workers=2$ ]]
	[ -z "$output" ]
	[ "$(ps -o args= -p "$pid")" = "chatd: master" ]
	kill -TERM "$pid"
	wait_for not_running "$pid"
	SERVER_PID=
	[ ! -e "$pidfile" ]
}

@test "-U nobody -P in a root-only directory: pidfile and hub made as root, removed at exit" {
	need_root
	local dir=$BATS_TEST_TMPDIR/run pid w
	mkdir -m 700 "$dir"
	launch "$CHATD" -b 127.0.0.1 -p 0 -w 2 -U nobody -P "$dir/chatd.pid"
	[ "$(cat "$dir/chatd.pid")" = "$SERVER_PID" ]
	[ "$(ps -o user= -p "$SERVER_PID")" = root ]
	for w in 1 2; do
		pid=$(worker_pid "$w")
		[ "$(ps -o user= -p "$pid")" = nobody ]
	done
	[ "$(stat -c %U "$(hub_file "$TCP_PORT")")" = nobody ]
	join a
	say a hello
	expect a '"hello" received by the server'
	stop_server
	[ "$SERVER_STATUS" -eq 0 ]
	[ ! -e "$dir/chatd.pid" ]
	[ ! -e "$(hub_file "$TCP_PORT")" ]
}

@test "-U as non-root is a clear error, exit 1" {
	need_root
	run --separate-stderr -1 as_nobody "$CHATD" -b 127.0.0.1 -p 0 -U daemon
	[ "$stderr" = "chatd: -U daemon needs root: chatd runs as uid 65534 and cannot change user" ]
}

@test "-U with an unknown user is a clear error, exit 1" {
	need_root
	run --separate-stderr -1 "$CHATD" -b 127.0.0.1 -p 0 -U no-such-user-xyz
	[ "$stderr" = "chatd: unknown user no-such-user-xyz" ]
}

@test "a startup failure after the pidfile was made removes it" {
	local pidfile=$BATS_TEST_TMPDIR/chatd.pid
	start_server -w 1 -u none
	run --separate-stderr -1 "$CHATD" -d -b 127.0.0.1 -p "$TCP_PORT" -P "$pidfile"
	[ "$stderr" = "chatd: bind tcp 127.0.0.1:$TCP_PORT: Address already in use" ]
	[ ! -e "$pidfile" ]
	stop_server
}

@test "a pidfile that is a symbolic link is refused and its target untouched" {
	local dir=$BATS_TEST_TMPDIR
	echo precious >"$dir/target"
	ln -s "$dir/target" "$dir/chatd.pid"
	run --separate-stderr -1 "$CHATD" -d -b 127.0.0.1 -p 0 -P "$dir/chatd.pid"
	[ "$stderr" = "chatd: pidfile $dir/chatd.pid is a symbolic link; refusing to follow it" ]
	[ "$(cat "$dir/target")" = precious ]
}

@test "a locked pidfile: a second chatd refuses, the first keeps its pidfile" {
	local pidfile=$BATS_TEST_TMPDIR/chatd.pid
	start_server -w 1 -P "$pidfile"
	[ "$(cat "$pidfile")" = "$SERVER_PID" ]
	run --separate-stderr -1 "$CHATD" -b 127.0.0.1 -p 0 -w 1 -P "$pidfile"
	[ "$stderr" = "chatd: pidfile $pidfile is locked: chatd is already running (pid $SERVER_PID)" ]
	[ "$(cat "$pidfile")" = "$SERVER_PID" ]
	stop_server
	[ ! -e "$pidfile" ]
}

@test "a hub object planted by another user is reported with its owner" {
	need_root
	local hub
	a_free_port
	hub=$(hub_file "$PORT")
	as_nobody sh -c 'echo planted >"$1"' sh "$hub"
	run --separate-stderr -1 "$CHATD" -b 127.0.0.1 -p "$PORT" -u none
	rm -f "$hub"
	[ "$stderr" = "chatd: hub /chatd-127.0.0.1-$PORT exists and belongs to nobody (uid 65534), not to chatd; remove $hub if no program of that user needs it" ]
}

@test "a stale hub of our own is replaced" {
	local hub
	a_free_port
	hub=$(hub_file "$PORT")
	echo leftover >"$hub"
	launch "$CHATD" -b 127.0.0.1 -p "$PORT" -u none -w 1
	[ "$(stat -c %s "$hub")" -gt 1000 ]
	stop_server
	[ ! -e "$hub" ]
}

# set_ring_size FILE: write 0xff over the header's ring size (LP64).
spoil_ring_size() {
	printf '\377\377\377\377\377\377\377\377' |
	    dd of="$1" bs=1 seek=24 conv=notrunc status=none
}

@test "a corrupted hub: -S reports it, the master stops instead of crash-looping" {
	local hub pid
	start_server -w 1
	hub=$(hub_file "$TCP_PORT")
	spoil_ring_size "$hub"
	run --separate-stderr -1 "$CHATD" -S -p "$TCP_PORT"
	[ "$stderr" = "chatd: hub /chatd-127.0.0.1-$TCP_PORT (owner $(id -un)) is corrupt header (ring size out of range)" ]
	pid=$(pgrep -P "$SERVER_PID")
	kill -KILL "$pid"
	wait_for not_running "$SERVER_PID"
	run -1 wait "$SERVER_PID"
	SERVER_PID=
	log_has "^chatd: master: worker 1 \(pid $pid\) killed by signal 9 \(Killed\)$"
	log_has "^chatd: master: hub /chatd-127.0.0.1-$TCP_PORT is corrupt header \(ring size out of range\); stopping$"
	[ "$(grep -c 'replaced' "$BATS_TEST_TMPDIR/server.log")" -eq 0 ]
	[ ! -e "$hub" ]
}

@test "a truncated hub: -S reports it, the master stops cleanly without SIGBUS" {
	local hub pid
	start_server -w 1
	hub=$(hub_file "$TCP_PORT")
	truncate -s 100 "$hub"
	run --separate-stderr -1 "$CHATD" -S -p "$TCP_PORT"
	[ "$stderr" = "chatd: hub /chatd-127.0.0.1-$TCP_PORT (owner $(id -un)) is truncated (smaller than its header)" ]
	pid=$(pgrep -P "$SERVER_PID")
	kill -KILL "$pid"
	wait_for not_running "$SERVER_PID"
	run -1 wait "$SERVER_PID"
	SERVER_PID=
	log_has "^chatd: master: hub /chatd-127.0.0.1-$TCP_PORT is truncated \(smaller than its header says\); stopping$"
	log_has "^chatd: master: stopped$"
}

# new_worker OLD: wait until worker 1 is running with a pid other than
# OLD; print it.
new_worker() {
	local pid
	wait_for worker_changed "$1"
	worker_pid 1
}

worker_changed() {
	local pid
	pid=$(worker_pid 1)
	[ -n "$pid" ] && [ "$pid" != 0 ] && [ "$pid" != "$1" ]
}

@test "a worker that keeps dying at start is retried with a back-off, never given up" {
	local pid=none i
	start_server -w 1
	for i in 1 2 3 4 5; do
		pid=$(new_worker "$pid")
		kill -KILL "$pid"
	done
	pid=$(new_worker "$pid")
	kill -0 "$SERVER_PID"
	log_has "^chatd: master: worker 1 died at start 2 times in a row; next try in 100 ms$"
	log_has "^chatd: master: worker 1 died at start 3 times in a row; next try in 200 ms$"
	log_has "^chatd: master: worker 1 died at start 5 times in a row; next try in 800 ms$"
	[ "$(grep -c '^chatd: master: worker 1 replaced (pid [0-9]*)$' "$BATS_TEST_TMPDIR/server.log")" -eq 5 ]
	join a
	say a "back"
	expect a '"back" received by the server'
	stop_server
	[ "$SERVER_STATUS" -eq 0 ]
}

@test "a shared-memory filesystem too small for the hub is a startup error before -d detaches" {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a private tmpfs"
	unshare -m true 2>/dev/null || skip "cannot make a mount namespace here"
	run --separate-stderr -1 unshare -m sh -c '
	    mount -t tmpfs -o size=1m tmpfs /dev/shm || exit 99
	    exec "$@"' sh "$CHATD" -d -b 127.0.0.1 -p 0 -u none
	[ "$status" -ne 99 ] || skip "cannot mount a tmpfs here"
	[[ "$stderr" =~ ^chatd:\ hub\ /chatd-127\.0\.0\.1-[0-9]+:\ cannot\ reserve\ [0-9]+\ bytes\ \([0-9.]+\ MiB\)\ of\ shared\ memory:\ No\ space\ left\ on\ device\;\ enlarge\ /dev/shm\ or\ lower\ -R\ or\ -m$ ]]
	# A hub that fits starts in the same room.
	run --separate-stderr -0 unshare -m sh -c '
	    mount -t tmpfs -o size=1m tmpfs /dev/shm || exit 99
	    "$@" & pid=$!
	    i=0
	    until [ -n "$(ls /dev/shm)" ] || [ $i -ge 250 ]; do
		sleep 0.02; i=$((i + 1))
	    done
	    ls /dev/shm
	    kill -TERM $pid; wait $pid' sh "$CHATD" -b 127.0.0.1 -p 0 -u none -w 1 -R 64k -m 100
	[[ "$output" =~ ^chatd-127\.0\.0\.1-[0-9]+$ ]]
}

@test "-S on a dead server: not running, exit 1" {
	local port
	start_server -w 1
	port=$TCP_PORT
	kill -KILL "$SERVER_PID"
	wait_for not_running "$SERVER_PID"
	run --separate-stderr -1 "$CHATD" -S -p "$port"
	[ "$stderr" = "chatd: not running on port $port (stale hub /chatd-127.0.0.1-$port left by pid $SERVER_PID)" ]
	wait "$SERVER_PID" || true
	SERVER_PID=
	# The workers follow the master out; a new chatd replaces the hub.
	launch "$CHATD" -b 127.0.0.1 -p "$port" -w 1
	stop_server
	run --separate-stderr -1 "$CHATD" -S -p "$port"
	[ "$stderr" = "chatd: not running on port $port" ]
}

@test "-S by a user who may not read the hub says so" {
	need_root
	start_server -w 1
	run --separate-stderr -1 as_nobody "$CHATD" -S -p "$TCP_PORT"
	[ "$stderr" = "chatd: hub /chatd-127.0.0.1-$TCP_PORT: Permission denied; run chatd -S as root or as the user chatd runs as" ]
	stop_server
}

@test "SIGHUP is logged and ignored: the chat goes on" {
	start_server -w 2
	join a
	join b
	expect a "Client ($ADDR_b) connected"
	kill -HUP "$SERVER_PID"
	wait_for log_has "^chatd: master: SIGHUP: nothing to reload; ignored$"
	say a "after the hup"
	expect a '"after the hup" received by the server'
	expect b "Client ($ADDR_a) said: after the hup"
	kill -0 "$SERVER_PID"
	[ "$(grep -c 'stopping' "$BATS_TEST_TMPDIR/server.log")" -eq 0 ]
	stop_server
}

@test "two chatds on one port number but different addresses both run" {
	local first second_pid log2=$BATS_TEST_TMPDIR/second.log
	start_server -w 1 -u none
	first=$TCP_PORT
	"$CHATD" -b 127.0.0.2 -p "$first" -w 1 -u none 2>"$log2" 3>&- &
	second_pid=$!
	wait_for grep -q ': ready tcp=127.0.0.2:' "$log2" || {
		cat "$log2" >&2
		kill "$second_pid" 2>/dev/null
		return 1
	}
	[ -e "$(hub_file "$first")" ]
	[ -e "$(hub_file "$first" 127.0.0.2)" ]
	run -0 "$CHATD" -S -b 127.0.0.2 -p "$first"
	[[ "${lines[0]}" == "chatd on port $first: master pid $second_pid, "* ]]
	run -0 "$CHATD" -S -p "$first"
	[[ "${lines[0]}" == "chatd on port $first: master pid $SERVER_PID, "* ]]
	kill -TERM "$second_pid"
	wait_for not_running "$second_pid"
	[ ! -e "$(hub_file "$first" 127.0.0.2)" ]
	stop_server
}

@test "process titles name the master and each worker" {
	start_server -w 2
	[ "$(ps -o args= -p "$SERVER_PID")" = "chatd: master" ]
	[ "$(ps -o args= -p "$(worker_pid 1)")" = "chatd: worker 1" ]
	[ "$(ps -o args= -p "$(worker_pid 2)")" = "chatd: worker 2" ]
	if [ -e "/proc/$SERVER_PID/comm" ]; then
		[ "$(cat "/proc/$SERVER_PID/comm")" = "chatd: master" ]
		[ "$(cat "/proc/$(worker_pid 2)/comm")" = "chatd: worker 2" ]
	fi
	stop_server
}
