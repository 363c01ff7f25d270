# Copyright (c) 2026 The chatd authors.  See LICENSE.
# tests/helpers.bash -- loaded by every .bats file; owns the processes.
#
#   start_server [ARGS]   start $SERVER on 127.0.0.1 port 0 and wait for
#                         its ready line; sets SERVER_PID TCP_PORT UDP_PORT
#   stop_server           SIGTERM, wait (5 s deadline), check the log
#   connect NAME          open a TCP client on fd variable FD_NAME
#   say NAME TEXT         send TEXT and a LF from client NAME
#   expect NAME LINE      the next line NAME receives is exactly LINE
#   expect_welcome NAME   read NAME's two welcome lines, set ADDR_NAME
#   wait_for CMD...       retry CMD until it succeeds (5 s deadline)
#   freeze PID, thaw PID  SIGSTOP/SIGCONT that teardown always undoes
#   collect NAME N FILE   NAME's next N "said:" lines into FILE
#   slow_reader_dropped   the slow-reader scenario, on a started server
#
# No test sleeps for a fixed time: every wait has a condition and a
# deadline.  CHATD=/path/to/chatd tests an installed copy.

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
CHATD=${CHATD:-$TOP/chatd}
CHATC=${CHATC:-$TOP/chatc}
CHATD_SELECT=${CHATD_SELECT:-$TOP/chatd-select}
# The suite's own fake server (tests/tcpcat.c), in place of nc.
TCPCAT=${TCPCAT:-$TOP/build/tests/tcpcat}
# The server the protocol tests run against; chatd unless told otherwise.
SERVER=${SERVER:-$CHATD}
DEADLINE=${DEADLINE:-5}

# wait_for CMD...: poll CMD until it succeeds or DEADLINE seconds pass.
wait_for() {
	local end=$((SECONDS + DEADLINE))
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "# timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

server_log() {
	cat "$BATS_TEST_TMPDIR/server.log" 2>/dev/null
}

# launch CMD...: start a server command line and wait for its ready
# line; sets SERVER_PID, TCP_PORT and UDP_PORT from it.  For the odd
# start: another address, a lower descriptor limit (with_nofile), setsid.
launch() {
	local log="$BATS_TEST_TMPDIR/server.log" ready
	"$@" 2>"$log" 3>&- &
	SERVER_PID=$!
	wait_for grep -q ': ready tcp=' "$log" || {
		echo "# server did not become ready; log:" >&2
		server_log >&2
		return 1
	}
	ready=$(grep -m1 ': ready tcp=' "$log")
	TCP_PORT=$(echo "$ready" | sed -n 's/.* tcp=[^ ]*:\([0-9]*\) .*/\1/p')
	UDP_PORT=$(echo "$ready" | sed -n 's/.* udp=[^ ]*:\([0-9]*\).*/\1/p')
	export SERVER_PID TCP_PORT UDP_PORT
}

# start_server [ARGS]: every test gets its own server, ports and hub.
start_server() {
	launch "$SERVER" -b 127.0.0.1 -p 0 "$@"
}

# with_nofile N CMD...: run CMD with its descriptor limit set to N.
with_nofile() {
	ulimit -n "$1" && shift && exec "$@"
}

not_running() {
	! kill -0 "$1" 2>/dev/null
}

# stop_server: graceful stop within the deadline, and a clean log.
stop_server() {
	[ -n "${SERVER_PID:-}" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	wait_for not_running "$SERVER_PID" || {
		kill -KILL "$SERVER_PID" 2>/dev/null
		echo "# server did not stop within ${DEADLINE}s" >&2
		return 1
	}
	wait "$SERVER_PID" 2>/dev/null
	SERVER_STATUS=$?
	SERVER_PID=
	if grep -qE 'Sanitizer|runtime error|fatal' \
	    "$BATS_TEST_TMPDIR/server.log"; then
		echo "# server log shows an error:" >&2
		server_log >&2
		return 1
	fi
}

# freeze PID / thaw PID: SIGSTOP and SIGCONT a process; whatever
# happens to the test, teardown lets every frozen one go on.
freeze() {
	FROZEN="${FROZEN:-} $1"
	kill -STOP "$1"
}

thaw() {
	kill -CONT "$1"
}

# The default teardown: never leave a server behind.
teardown() {
	local p
	# A worker left stopped would outlive its master, holding bats' fd.
	for p in ${FROZEN:-}; do
		kill -CONT "$p" 2>/dev/null
	done
	if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	if [ -n "${TCP_PORT:-}" ]; then
		rm -f "/dev/shm/chatd-127.0.0.1-$TCP_PORT"
	fi
	# A failing test shows the server's log; a passing one stays quiet.
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		echo "# server log:" >&3
		server_log | sed 's/^/#   /' >&3
	fi
}

# connect NAME [PORT]: a client on bash's /dev/tcp, fd in FD_NAME.
connect() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/${2:-$TCP_PORT}" || return 1
	printf -v "FD_$1" '%s' "$fd"
}

disconnect() {
	local v="FD_$1"
	eval "exec ${!v}>&-"
	printf -v "FD_$1" '%s' 
}

# say NAME TEXT: send TEXT as one line (raw bytes: use printf escapes).
say() {
	local v="FD_$1"
	printf '%s\n' "$2" >&"${!v}"
}

# send_raw NAME FORMAT: printf FORMAT to the client's socket unchanged.
send_raw() {
	local v="FD_$1"
	# shellcheck disable=SC2059
	printf "$2" >&"${!v}"
}

# read_line NAME: the next line NAME receives, into LINE; fails on EOF
# or after the deadline.
read_line() {
	local v="FD_$1"
	LINE=
	IFS= read -r -t "$DEADLINE" -u "${!v}" LINE
}

# expect NAME LINE: the next line NAME receives is exactly LINE.
expect() {
	if ! read_line "$1"; then
		echo "# $1: expected '$2', got nothing (EOF or timeout)" >&2
		return 1
	fi
	if [ "$LINE" != "$2" ]; then
		echo "# $1: expected '$2'" >&2
		echo "# $1:      got '$LINE'" >&2
		return 1
	fi
}

# expect_eof NAME: the server closes NAME's connection.
expect_eof() {
	local v="FD_$1"
	if IFS= read -r -t "$DEADLINE" -u "${!v}" LINE; then
		echo "# $1: expected EOF, got '$LINE'" >&2
		return 1
	fi
	# read fails on EOF (status 1) and on timeout (status > 128).
	[ -z "$LINE" ] || { echo "# $1: partial line '$LINE'" >&2; return 1; }
}

# expect_welcome NAME: the two welcome lines; ADDR_NAME is NAME's address.
expect_welcome() {
	local addr
	read_line "$1" || { echo "# $1: no welcome" >&2; return 1; }
	addr=$(printf '%s' "$LINE" | sed -n 's/^Welcome, Client (\(.*\))\.$/\1/p')
	[ -n "$addr" ] || { echo "# $1: bad welcome '$LINE'" >&2; return 1; }
	printf -v "ADDR_$1" '%s' "$addr"
	expect "$1" "Please enter your message."
}

# in_background CMD...: run CMD in the background with fd 3 closed; BG_PID
# is its pid.  Its failure is not the test's: a writer or reader cut off
# by a stopping server is expected, and must not trip bats' error trap.
in_background() {
	# 0<&0: without it, bash gives a background job /dev/null as stdin.
	( trap - ERR; set +e; "$@"; exit 0 ) 0<&0 3>&- &
	BG_PID=$!
}

# flood N: N lines of 1000 bytes on stdout.
flood() {
	yes "$(printf 'x%.0s' $(seq 1000))" | head -n "$1"
}

# join NAME: connect, read the welcome; others must then see the connect.
join() {
	connect "$1" && expect_welcome "$1"
}

# worker_of ADDR: the number of the worker serving the client at ADDR,
# from the log of a server started with -v.
worker_of() {
	sed -n "s/^chatd: worker \([0-9]*\): $1 connected .*/\1/p" \
	    "$BATS_TEST_TMPDIR/server.log" | tail -n 1
}

# worker_pid N: the pid of worker N, from chatd -S.
worker_pid() {
	"$CHATD" -S -p "$TCP_PORT" | awk -v n="$1" '$1 == n { print $2 }'
}

# log_has PATTERN: the server log has a line matching PATTERN (grep -E).
log_has() {
	grep -qE "$1" "$BATS_TEST_TMPDIR/server.log"
}

# collect NAME N FILE: read NAME's lines until N "said:" lines arrived;
# keep those, in order, in FILE.
collect() {
	local got=0
	: >"$3"
	while [ "$got" -lt "$2" ]; do
		read_line "$1" || {
			echo "# $1: only $got of $2 messages arrived" >&2
			return 1
		}
		case $LINE in
		*" said: "*)
			printf '%s\n' "$LINE" >>"$3"
			got=$((got + 1))
			;;
		esac
	done
}

# slow_reader_dropped: with a server started, s floods 8 MB while g
# reads and slow never does: slow is dropped with a reason, g and s get
# every line and acknowledgment.
slow_reader_dropped() {
	local dir=$BATS_TEST_TMPDIR v
	join s
	join g
	join slow
	expect s "Client ($ADDR_g) connected"
	expect s "Client ($ADDR_slow) connected"
	expect g "Client ($ADDR_slow) connected"
	# s and g drain their sockets into files; slow never reads.
	v=FD_s; in_background cat <&"${!v}" >"$dir/s.out"
	v=FD_g; in_background cat <&"${!v}" >"$dir/g.out"
	# 8 MB of broadcast: more than the kernel buffers ahead of slow.
	v=FD_s
	flood 8000 >&"${!v}"
	say s "done"
	wait_for grep -q "^Client ($ADDR_s) said: done\$" "$dir/g.out"
	grep -qx "Client ($ADDR_slow) left (send queue exceeded)" "$dir/g.out"
	[ "$(grep -c "^Client ($ADDR_s) said: x*\$" "$dir/g.out")" -eq 8000 ]
	wait_for grep -q '^"done" received by the server$' "$dir/s.out"
	[ "$(grep -c '^"x*" received by the server$' "$dir/s.out")" -eq 8000 ]
	grep -qx "Client ($ADDR_slow) left (send queue exceeded)" "$dir/s.out"
}
