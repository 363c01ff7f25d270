#!/usr/bin/env bats
# Copyright (c) 2026 The chatd authors.  See LICENSE.
# chatd -C: two chatd hosts sharing one chat through three clustered
# nats-server processes with JetStream, all on loopback, storage in the
# file's temporary directory.  Skipped when nats-server is missing or
# chatd was built without libnats (.ci/run installs both).

load helpers

# is_listening PORT: something accepts on 127.0.0.1:PORT.
is_listening() {
	(exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# nats_ready LOG: the server has joined the JetStream cluster.
nats_ready() {
	grep -qE 'JetStream cluster new metadata leader|Self is new JetStream cluster metadata leader' "$1"
}

# start_nats I: NATS server I of three (ports from NATS_BASE), its log
# nI.log and pid nI.pid in the file's directory, its storage kept there.
start_nats() {
	local i=$1 b=$NATS_BASE dir=$BATS_FILE_TMPDIR
	mkdir -p "$dir/n$i"
	nats-server -a 127.0.0.1 -p $((b + 2 + i)) -js -sd "$dir/n$i" \
	    --server_name "n$i" --cluster_name chatdtest \
	    --cluster "nats://127.0.0.1:$((b + i - 1))" \
	    --routes "nats://127.0.0.1:$b,nats://127.0.0.1:$((b + 1)),nats://127.0.0.1:$((b + 2))" \
	    >>"$dir/n$i.log" 2>&1 3>&- &
	echo $! >"$dir/n$i.pid"
}

# nats_started: all three servers ready, or one of them gone (1).
nats_started() {
	local i pid
	for i in 1 2 3; do
		pid=$(cat "$BATS_FILE_TMPDIR/n$i.pid")
		kill -0 "$pid" 2>/dev/null || return 2
		nats_ready "$BATS_FILE_TMPDIR/n$i.log" || return 1
	done
}

# stop_nats: the three servers, if they run, by pid.
stop_nats() {
	local i pid
	for i in 1 2 3; do
		[ -f "$BATS_FILE_TMPDIR/n$i.pid" ] || continue
		pid=$(cat "$BATS_FILE_TMPDIR/n$i.pid")
		kill -TERM "$pid" 2>/dev/null || continue
		DEADLINE=10 wait_for not_running "$pid" || kill -KILL "$pid"
	done
}

setup_file() {
	local i base dir=$BATS_FILE_TMPDIR attempt rc
	command -v nats-server >/dev/null ||
	    skip "nats-server is missing (apt-get install nats-server)"
	if "$CHATD" -C nats://127.0.0.1:1 -S 2>&1 |
	    grep -q 'without cluster support'; then
		skip "chatd was built without libnats (apt-get install libnats-dev)"
	fi
	# Six ports in a row, free when looked at: three for routes, three
	# for clients (a route list names ports before anyone listens on
	# them).  Another program may take one meanwhile: then the server
	# exits, and the three start again elsewhere.
	for attempt in 1 2 3 4 5; do
		base=$((20000 + RANDOM % 30000))
		for i in 0 1 2 3 4 5; do
			is_listening $((base + i)) && continue 2
		done
		NATS_BASE=$base
		export NATS_BASE
		rm -rf "$dir"/n[123] "$dir"/n[123].log
		for i in 1 2 3; do
			start_nats "$i"
		done
		rc=0
		DEADLINE=20 wait_for nats_started || rc=$?
		[ "$rc" -eq 0 ] && break
		stop_nats
		[ "$attempt" -lt 5 ] || {
			cat "$dir"/n[123].log >&3
			return 1
		}
	done
	NATS_URLS=
	for i in 1 2 3; do
		NATS_URLS=$NATS_URLS${NATS_URLS:+,}nats://127.0.0.1:$((base + 2 + i))
	done
	export NATS_URLS
}

teardown_file() {
	stop_nats
}

# start_host N [ARGS]: chatd host N of this test's cluster (its own -N),
# on its own port; sets PORT_N and PID_N.  Its log is hostN.log.
start_host() {
	local n=$1 log="$BATS_TEST_TMPDIR/host$1.log" ready
	shift
	# Its own process group, so a test can kill the whole host at once.
	setsid "$CHATD" -b 127.0.0.1 -p 0 -u none -C "$NATS_URLS" \
	    -N "t$BATS_TEST_NUMBER" "$@" 2>"$log" 3>&- &
	printf -v "PID_$n" '%s' "$!"
	DEADLINE=25 wait_for grep -q ': ready tcp=' "$log" || {
		cat "$log" >&2
		return 1
	}
	ready=$(grep -m1 ': ready tcp=' "$log")
	printf -v "PORT_$n" '%s' \
	    "$(echo "$ready" | sed -n 's/.* tcp=[^ ]*:\([0-9]*\) .*/\1/p')"
	HOSTS="${HOSTS:-} $n"
}

# stop_host N: SIGTERM, gone within the deadline, no error in its log.
stop_host() {
	local v="PID_$1" port="PORT_$1"
	kill -TERM "${!v}"
	DEADLINE=10 wait_for not_running "${!v}"
	wait "${!v}" 2>/dev/null || true
	rm -f "/dev/shm/chatd-127.0.0.1-${!port}"
	# The bridge's board goes with the master.
	[ ! -e "/dev/shm/chatd-127.0.0.1-${!port}-bridge" ]
	! grep -qE 'Sanitizer|runtime error|fatal' \
	    "$BATS_TEST_TMPDIR/host$1.log"
}

# nats_all SIG: send SIG to the three NATS servers.
nats_all() {
	local i rc=0
	for i in 1 2 3; do
		kill "$1" "$(cat "$BATS_FILE_TMPDIR/n$i.pid")" || rc=1
	done
	return "$rc"
}

teardown() {
	local n v port i
	# A test that failed while the NATS servers were stopped leaves
	# them running for the next.
	nats_all -CONT 2>/dev/null || true
	for n in ${HOSTS:-}; do
		v="PID_$n"
		port="PORT_$n"
		if kill -0 "${!v}" 2>/dev/null; then
			kill -KILL -- -"${!v}"
			wait "${!v}" 2>/dev/null || true
		fi
		rm -f "/dev/shm/chatd-127.0.0.1-${!port}" \
		    "/dev/shm/chatd-127.0.0.1-${!port}-bridge"
		if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
			echo "# host $n log:" >&3
			sed 's/^/#   /' "$BATS_TEST_TMPDIR/host$n.log" >&3
		fi
	done
}

# host_number N: host N's number in the cluster, from its log.
host_number() {
	sed -n 's/.*this host is number \([0-9]*\)$/\1/p' \
	    "$BATS_TEST_TMPDIR/host$1.log"
}

# bridge_line N: host N's "bridge: ..." line from chatd -S.
bridge_line() {
	local port="PORT_$1"
	"$CHATD" -S -p "${!port}" | grep '^bridge: '
}

# nats_peer PID: the client port of the NATS server that process PID is
# connected to, as the kernel sees it (its established TCP sockets).
nats_peer() {
	local fd link inodes=" " hex
	for fd in /proc/"$1"/fd/*; do
		link=$(readlink "$fd" 2>/dev/null) || continue
		case $link in
		socket:*) inodes="$inodes${link//[^0-9]/} " ;;
		esac
	done
	# /proc/PID/net/tcp: rem_address is HEXIP:HEXPORT, st 01 is
	# established, the inode is the 10th field.
	for hex in $(awk -v want="$inodes" 'NR > 1 && $4 == "01" &&
	    index(want, " " $10 " ") { split($3, r, ":"); print r[2] }' \
	    /proc/"$1"/net/tcp); do
		if [ $((16#$hex)) -ge $((NATS_BASE + 3)) ] &&
		    [ $((16#$hex)) -le $((NATS_BASE + 5)) ]; then
			echo $((16#$hex))
		fi
	done
}

# bridge_url N: the URL of the NATS server host N's bridge is
# connected to, from the kernel's view of the bridge's sockets.
bridge_url() {
	local port="PORT_$1" pid peer
	pid=$("$CHATD" -S -p "${!port}" | awk '$1 == "bridge" { print $2 }')
	peer=$(nats_peer "$pid")
	[ -n "$peer" ] && echo "nats://127.0.0.1:$peer"
}

# on HOST NAME: connect client NAME to host HOST and read its welcome.
on() {
	local port="PORT_$1"
	connect "$2" "${!port}" && expect_welcome "$2"
}

# skip_to NAME LINE: read NAME's lines up to and including LINE.
skip_to() {
	while read_line "$1"; do
		[ "$LINE" = "$2" ] && return 0
	done
	echo "# $1: never got '$2'" >&2
	return 1
}

@test "cluster: one order on every host, each sender's lines in order, exactly once" {
	local i r v dir=$BATS_TEST_TMPDIR count=100 pids=()
	start_host 1 -w 2 -r 0
	start_host 2 -w 2 -r 0
	# Senders s1 s3 on host 1, s2 s4 on host 2; receivers on both.
	for i in 1 2 3 4; do
		on $((2 - i % 2)) "s$i"
		say "s$i" "/nick s$i"
		skip_to "s$i" "ok: you are now s$i"
	done
	on 1 r1
	on 2 r2
	on 2 r3
	# Every client has seen every arrival and rename before the flood:
	# r3 came last, so its arrival is the last record before it.
	for i in 1 2 3 4; do
		skip_to "s$i" "Client ($ADDR_r3) connected"
	done
	skip_to r1 "Client ($ADDR_r3) connected"
	skip_to r2 "Client ($ADDR_r3) connected"

	for i in 1 2 3 4; do
		v=FD_s$i
		in_background eval 'seq 1 $count | sed "s/^/m /"' >&"${!v}"
		pids+=("$BG_PID")
	done
	wait "${pids[@]}"

	for r in 1 2 3; do
		collect "r$r" $((4 * count)) "$dir/r$r"
	done
	cmp "$dir/r1" "$dir/r2"
	cmp "$dir/r1" "$dir/r3"
	for i in 1 2 3 4; do
		grep "^s$i said: " "$dir/r1" | sed 's/.* m //' >"$dir/seq$i"
		seq 1 $count | cmp - "$dir/seq$i"
	done
	# Each sender: its acknowledgments in order, the others' lines in
	# the one order.
	for i in 1 2 3 4; do
		v=FD_s$i
		: >"$dir/ack$i"
		: >"$dir/s$i"
		while [ "$(wc -l <"$dir/ack$i")" -lt $count ] ||
		    [ "$(wc -l <"$dir/s$i")" -lt $((3 * count)) ]; do
			read_line "s$i" || {
				echo "# s$i: lines missing" >&2
				return 1
			}
			case $LINE in
			*" received by the server") echo "$LINE" >>"$dir/ack$i" ;;
			*" said: "*) echo "$LINE" >>"$dir/s$i" ;;
			esac
		done
		seq 1 $count | sed 's/.*/"m &" received by the server/' |
		    cmp - "$dir/ack$i"
		grep -v "^s$i said: " "$dir/r1" | cmp - "$dir/s$i"
	done
	# chatd -S: both bridges took the whole stream.
	local h1 h2 s1 s2
	h1=$(host_number 1)
	h2=$(host_number 2)
	s1=$(bridge_line 1 | sed -n 's/.*stream record \([0-9]*\),.*/\1/p')
	s2=$(bridge_line 2 | sed -n 's/.*stream record \([0-9]*\),.*/\1/p')
	[ "$s1" = "$s2" ] && [ "$s1" -gt 0 ]
	[ "$(bridge_line 1)" = "bridge: host $h1, stream record $s1, 0 after it not yet taken, connected to $(bridge_url 1)" ]
	[ "$(bridge_line 2)" = "bridge: host $h2, stream record $s1, 0 after it not yet taken, connected to $(bridge_url 2)" ]
	stop_host 1
	stop_host 2
}

# answer NAME: NAME's next line that answers a command ("ok:" or
# "error:"), past the broadcasts that may come first; into LINE.
answer() {
	while read_line "$1"; do
		case $LINE in
		ok:* | error:*) return 0 ;;
		esac
	done
	echo "# $1: no answer" >&2
	return 1
}

@test "cluster: a name taken on one host is refused on the other, also in a race" {
	local rc
	start_host 1
	start_host 2
	on 1 a
	on 2 b
	skip_to a "Client ($ADDR_b) connected"
	say a "/nick alice"
	expect a "ok: you are now alice"
	skip_to b "Client ($ADDR_a) is now known as alice"
	say b "/nick alice"
	expect b "error: nickname in use"
	say b "/nick ALICE"
	expect b "error: nickname in use"
	# Its owner may spell it otherwise, and keeps it.
	say a "/nick Alice"
	expect a "ok: you are now Alice"
	skip_to b "alice is now known as Alice"
	say b "/nick alice"
	expect b "error: nickname in use"

	# Two clients on two hosts ask for one free name at once.
	on 1 c
	on 2 d
	skip_to c "Client ($ADDR_d) connected"
	say c "/nick racer"
	say d "/nick racer"
	answer c
	rc=$LINE
	answer d
	[ "$rc|$LINE" = "ok: you are now racer|error: nickname in use" ] ||
	    [ "$rc|$LINE" = "error: nickname in use|ok: you are now racer" ]

	# A name given up is free on every host.
	say a "/quit"
	skip_to a "Goodbye."
	expect_eof a
	skip_to b "Alice left"
	say b "/nick alice"
	expect b "ok: you are now alice"
	stop_host 1
	stop_host 2
}

@test "cluster: /msg reaches a client on another host and nobody else; /who lists every host; /history alike" {
	local i lines=()
	start_host 1
	start_host 2
	on 1 a
	on 2 b
	on 2 c
	skip_to a "Client ($ADDR_c) connected"
	skip_to b "Client ($ADDR_c) connected"
	say a "/nick alice"
	expect a "ok: you are now alice"
	skip_to b "Client ($ADDR_a) is now known as alice"
	skip_to c "Client ($ADDR_a) is now known as alice"
	say b "/nick bob"
	expect b "ok: you are now bob"
	skip_to c "Client ($ADDR_b) is now known as bob"
	skip_to a "Client ($ADDR_b) is now known as bob"

	say a "/msg BOB over there"
	expect a "ok: sent to bob"
	skip_to b "alice whispers: over there"
	# c gets the next broadcast, and nothing before it.
	say a "marker"
	expect a '"marker" received by the server'
	expect b "alice said: marker"
	expect c "alice said: marker"
	say b "/msg nobody hello"
	expect b "error: no such client: nobody"

	say c "/who"
	expect c "who: 3 connected"
	for i in 1 2 3; do
		read_line c
		lines+=("$LINE")
	done
	printf '%s\n' "${lines[@]}" | sort >"$BATS_TEST_TMPDIR/who"
	printf '%s\n' "who: Client ($ADDR_c)" "who: alice ($ADDR_a)" \
	    "who: bob ($ADDR_b)" | sort | cmp - "$BATS_TEST_TMPDIR/who"

	# /history is the same on both hosts, once both delivered as far.
	say b "last"
	expect b '"last" received by the server'
	skip_to a "bob said: last"
	expect c "bob said: last"
	say a "/history"
	say c "/history"
	history_of a >"$BATS_TEST_TMPDIR/ha"
	history_of c >"$BATS_TEST_TMPDIR/hc"
	cmp "$BATS_TEST_TMPDIR/ha" "$BATS_TEST_TMPDIR/hc"
	tail -n 1 "$BATS_TEST_TMPDIR/ha" | grep -qx "history: bob said: last"
	stop_host 1
	stop_host 2
}

@test "cluster: ok: you are now NAME and ok: sent to NAME wait for the stream, like received" {
	local bridge
	start_host 1
	start_host 2
	on 1 a
	on 1 b
	on 2 c
	skip_to a "Client ($ADDR_c) connected"
	skip_to b "Client ($ADDR_c) connected"
	say b "/nick bob"
	skip_to b "ok: you are now bob"
	skip_to a "Client ($ADDR_b) is now known as bob"
	skip_to c "Client ($ADDR_b) is now known as bob"
	say c "/nick carol"
	skip_to c "ok: you are now carol"
	skip_to a "Client ($ADDR_c) is now known as carol"
	skip_to b "Client ($ADDR_c) is now known as carol"
	# A stopped bridge sends nothing to the stream: the answers wait.
	# "/msg" alone is answered at once, so it shows what came first.
	bridge=$(bridge_row 1 | awk '{ print $2 }')
	[ -n "$bridge" ]
	kill -STOP "$bridge"
	say a "/nick alice"
	say a "/msg bob psst"
	say a "/msg carol hi"
	say a "/msg"
	answer a
	[ "$LINE" = "error: usage: /msg NAME TEXT" ]
	kill -CONT "$bridge"
	# Then the three, in order, once the stream has what they answer.
	answer a
	[ "$LINE" = "ok: you are now alice" ]
	answer a
	[ "$LINE" = "ok: sent to bob" ]
	answer a
	[ "$LINE" = "ok: sent to carol" ]
	expect b "Client ($ADDR_a) is now known as alice"
	expect b "alice whispers: psst"
	expect c "Client ($ADDR_a) is now known as alice"
	expect c "alice whispers: hi"
	stop_host 1
	stop_host 2
}

# history_of NAME: the answer to NAME's /history, count line first.
history_of() {
	local n i
	read_line "$1" || return 1
	printf '%s\n' "$LINE"
	n=$(printf '%s' "$LINE" | sed -n 's/^history: \([0-9]*\) lines$/\1/p')
	[ -n "$n" ] || return 1
	for i in $(seq 1 "$n"); do
		read_line "$1" || return 1
		printf '%s\n' "$LINE"
	done
}

# bridge_row N: host N's scoreboard line for its bridge.
bridge_row() {
	local port="PORT_$1"
	"$CHATD" -S -p "${!port}" | awk '$1 == "bridge"'
}

# bridge_behind N: host N's bridge has records in the ring to read.
bridge_behind() {
	[ "$(bridge_row "$1" | awk '{ print $8 }')" -gt 0 ]
}

@test "cluster: a bridge killed is replaced and sends what was said while none ran" {
	local bridge
	start_host 1
	start_host 2
	on 1 a
	on 2 b
	skip_to a "Client ($ADDR_b) connected"
	bridge=$(bridge_row 1 | awk '{ print $2 }')
	[ -n "$bridge" ]
	# Stopped, the bridge reads nothing: the line waits in the ring.
	kill -STOP "$bridge"
	say a "while the bridge was away"
	wait_for bridge_behind 1
	kill -KILL "$bridge"
	skip_to b "Client ($ADDR_a) said: while the bridge was away"
	expect a '"while the bridge was away" received by the server'
	grep -q "bridge (pid $bridge) killed by signal 9" \
	    "$BATS_TEST_TMPDIR/host1.log"
	grep -q "bridge replaced" "$BATS_TEST_TMPDIR/host1.log"
	[ "$(bridge_row 1 | awk '{ print $2 }')" != "$bridge" ]
	stop_host 1
	stop_host 2
}

# nats_up I: server I answers on its client port.
nats_up() {
	is_listening $((NATS_BASE + 2 + $1))
}

@test "cluster: a NATS server killed during traffic: nothing lost, nothing twice, one order" {
	local i r v dir=$BATS_TEST_TMPDIR count=300 pids=() victim
	# 50 lines a second each: the senders take 6 s, the kill is inside.
	start_host 1 -w 2 -r 50
	start_host 2 -w 2 -r 50
	on 1 s1
	say s1 "/nick s1"
	skip_to s1 "ok: you are now s1"
	on 2 s2
	say s2 "/nick s2"
	skip_to s2 "ok: you are now s2"
	on 1 r1
	on 2 r2
	skip_to r1 "Client ($ADDR_r2) connected"
	skip_to s1 "Client ($ADDR_r2) connected"
	skip_to s2 "Client ($ADDR_r2) connected"

	for i in 1 2; do
		v=FD_s$i
		in_background eval 'seq 1 $count | sed "s/^/m /"' >&"${!v}"
		pids+=("$BG_PID")
	done
	# Some traffic through, then the stream's servers lose one.
	collect r1 20 "$dir/r1.head"
	victim=$((RANDOM % 3 + 1))
	kill -KILL "$(cat "$BATS_FILE_TMPDIR/n$victim.pid")"
	wait "${pids[@]}"
	# A feed from the dead server resumes within a few heartbeats.
	DEADLINE=20 collect r1 $((2 * count - 20)) "$dir/r1.tail"
	cat "$dir/r1.head" "$dir/r1.tail" >"$dir/r1"
	DEADLINE=20 collect r2 $((2 * count)) "$dir/r2"
	cmp "$dir/r1" "$dir/r2"
	for i in 1 2; do
		grep "^s$i said: " "$dir/r1" | sed 's/.* m //' >"$dir/seq$i"
		seq 1 $count | cmp - "$dir/seq$i"
	done
	stop_host 1
	stop_host 2
	# The next test finds three servers again.
	start_nats "$victim"
	DEADLINE=20 wait_for nats_up "$victim"
}

# shows_url N URL: host N's chatd -S says its bridge is connected to URL.
shows_url() {
	[[ "$(bridge_line "$1")" = *", connected to $2" ]]
}

@test "cluster: chatd -S names the NATS server the bridge is connected to, and the next one when it dies" {
	local url line h s victim next
	start_host 1
	h=$(host_number 1)
	# The bridge says which server it is on within a beat of joining.
	url=$(bridge_url 1)
	[[ "$url" = nats://127.0.0.1:* ]]
	DEADLINE=5 wait_for shows_url 1 "$url"
	line=$(bridge_line 1)
	s=$(echo "$line" | sed -n 's/.*stream record \([0-9]*\),.*/\1/p')
	[ "$line" = "bridge: host $h, stream record $s, 0 after it not yet taken, connected to $url" ]

	# That server dies: the library moves to another, and so does -S.
	victim=$((${url##*:} - NATS_BASE - 2))
	kill -KILL "$(cat "$BATS_FILE_TMPDIR/n$victim.pid")"
	DEADLINE=20 wait_for bridge_url_is_not 1 "$url"
	next=$(bridge_url 1)
	[ "$next" != "$url" ]
	DEADLINE=10 wait_for shows_url 1 "$next"
	line=$(bridge_line 1)
	s=$(echo "$line" | sed -n 's/.*stream record \([0-9]*\),.*/\1/p')
	[ "$line" = "bridge: host $h, stream record $s, 0 after it not yet taken, connected to $next" ]
	grep -q "bridge: connected to $url\$" "$BATS_TEST_TMPDIR/host1.log"
	grep -q "bridge: connected to $next\$" "$BATS_TEST_TMPDIR/host1.log"
	stop_host 1
	# The next test finds three servers again.
	start_nats "$victim"
	DEADLINE=20 wait_for nats_up "$victim"
}

# bridge_url_is_not N URL: host N's bridge is connected, elsewhere.
bridge_url_is_not() {
	local now
	now=$(bridge_url "$1") && [ "$now" != "$2" ]
}

@test "cluster: a host killed: departures announced once, by one host, names freed; restarted, it rejoins" {
	start_host 1
	start_host 2
	start_host 3
	on 1 a
	on 2 b
	on 3 c
	skip_to a "Client ($ADDR_c) connected"
	skip_to b "Client ($ADDR_c) connected"
	say a "/nick alice"
	expect a "ok: you are now alice"
	skip_to b "Client ($ADDR_a) is now known as alice"
	skip_to c "Client ($ADDR_a) is now known as alice"

	local n
	n=$(host_number 1)
	[ -n "$n" ]
	# Master, workers and bridge at once, as a power cut would.
	kill -KILL -- -"$PID_1"
	DEADLINE=15 expect b "alice left (connection lost)"
	DEADLINE=15 expect c "alice left (connection lost)"
	# Once: the next line each sees is the next broadcast.
	say c "after"
	expect c '"after" received by the server'
	expect b "Client ($ADDR_c) said: after"
	say b "/nick alice"
	expect b "ok: you are now alice"
	skip_to c "Client ($ADDR_b) is now known as alice"
	say c "/who"
	expect c "who: 2 connected"
	# One host did it.
	[ "$(cat "$BATS_TEST_TMPDIR/host2.log" "$BATS_TEST_TMPDIR/host3.log" |
	    grep -c "bridge: host $n is gone: 1 clients announced")" -eq 1 ]

	# The host started again rejoins, under a new number.
	start_host 4
	run ! grep -q "this host is number $n\$" "$BATS_TEST_TMPDIR/host4.log"
	on 4 d
	skip_to b "Client ($ADDR_d) connected"
	say d "back"
	expect d '"back" received by the server'
	expect b "Client ($ADDR_d) said: back"
	say b "hello d"
	skip_to d "alice said: hello d"
	stop_host 4
	stop_host 2
	stop_host 3
}

# gone_logged N LINE: a host's log says host N is gone with LINE after.
gone_logged() {
	cat "$BATS_TEST_TMPDIR"/host[23].log |
	    grep -qF "bridge: host $1 is gone: $2"
}

@test "cluster: a cleaning host that dies half-way: each departure still announced once" {
	local n i lines=()
	# Whichever of hosts 2 and 3 cleans up first dies right after its
	# first announcement, before it frees that client's name.
	export CHATD_TEST_REAP_EXIT=$BATS_TEST_TMPDIR/reap-exit
	start_host 1
	start_host 2
	start_host 3
	unset CHATD_TEST_REAP_EXIT
	on 1 a
	on 1 e
	on 2 b
	on 3 c
	skip_to a "Client ($ADDR_c) connected"
	skip_to e "Client ($ADDR_c) connected"
	say a "/nick alice"
	skip_to a "ok: you are now alice"
	say e "/nick eve"
	skip_to e "ok: you are now eve"
	skip_to b "Client ($ADDR_e) is now known as eve"
	skip_to c "Client ($ADDR_e) is now known as eve"
	n=$(host_number 1)
	[ -n "$n" ]
	kill -KILL -- -"$PID_1"
	# The first cleaner announced one and died; the next one finds that
	# one still listed, sends it again (a duplicate the stream drops)
	# and announces the other.
	DEADLINE=30 wait_for gone_logged "$n" "1 clients announced (1 more had been already)"
	[ -e "$BATS_TEST_TMPDIR/reap-exit" ]
	grep -q "bridge: CHATD_TEST_REAP_EXIT: dying half-way" \
	    "$BATS_TEST_TMPDIR/host2.log" "$BATS_TEST_TMPDIR/host3.log"
	# Once each, then the next broadcast.
	say c "after"
	for i in 1 2 3; do
		read_line b
		lines+=("$LINE")
	done
	printf "# b got: %s\n" "${lines[@]}" >&2
	[ "${lines[2]}" = "Client ($ADDR_c) said: after" ]
	printf '%s\n' "${lines[0]}" "${lines[1]}" | sort | tr '\n' '|' >"$BATS_TEST_TMPDIR/b"
	[ "$(cat "$BATS_TEST_TMPDIR/b")" = "alice left (connection lost)|eve left (connection lost)|" ]
	skip_to c '"after" received by the server'
	say b "/nick alice"
	skip_to b "ok: you are now alice"
	say c "/nick eve"
	skip_to c "ok: you are now eve"
	say c "/who"
	skip_to c "who: 2 connected"
	stop_host 2
	stop_host 3
}

@test "cluster: a host with more clients than a clean-up slice: each announced once" {
	local i n count=70 start
	start_host 1
	start_host 2
	on 2 b
	for i in $(seq 1 $count); do
		on 1 "x$i"
	done
	skip_to b "Client ($ADDR_x70) connected"
	say x1 "/nick first"
	skip_to b "Client ($ADDR_x1) is now known as first"
	n=$(host_number 1)
	[ -n "$n" ]
	start=$SECONDS
	kill -KILL -- -"$PID_1"
	{
		echo "first left (connection lost)"
		for i in $(seq 2 $count); do
			echo "Client ($(eval echo "\$ADDR_x$i")) left (connection lost)"
		done
	} | sort >"$BATS_TEST_TMPDIR/want"
	: >"$BATS_TEST_TMPDIR/got"
	for i in $(seq 1 $count); do
		DEADLINE=30 read_line b
		echo "$LINE" >>"$BATS_TEST_TMPDIR/got"
	done
	sort "$BATS_TEST_TMPDIR/got" | cmp - "$BATS_TEST_TMPDIR/want"
	echo "# $count departures in $((SECONDS - start)) s" >&3
	DEADLINE=10 wait_for grep -q "bridge: host $n is gone: $count clients announced (0 more had been already)" \
	    "$BATS_TEST_TMPDIR/host2.log"
	# Nothing twice: the next line b gets is b's own next answer.
	say b "/nick first"
	expect b "ok: you are now first"
	stop_host 2
}

# held N: a worker of host N is held back (chatd -S says so).
held() {
	local port="PORT_$1"
	"$CHATD" -S -p "${!port}" | grep -q ' held$'
}

@test "cluster: NATS not answering holds the publishers back; then everything goes through" {
	local i v dir=$BATS_TEST_TMPDIR count=600 pad
	pad=$(printf 'x%.0s' $(seq 1 1000))
	seq 1 "$count" | sed "s/.*/m & $pad/" >"$dir/sent"
	start_host 1 -w 2 -r 0
	start_host 2 -w 2 -r 0
	on 1 s
	say s "/nick s"
	skip_to s "ok: you are now s"
	on 2 r
	skip_to s "Client ($ADDR_r) connected"
	# Every NATS server stops answering (their sockets stay open).
	nats_all -STOP
	v=FD_s
	in_background cat "$dir/sent" >&"${!v}"
	# 600 lines (more than the 512 of the high mark) waiting for the
	# bridge: the worker stops reading s.
	DEADLINE=15 wait_for held 1
	nats_all -CONT
	wait "$BG_PID"
	# Every line once, in order, on the other host; every
	# acknowledgment, in order, to the sender.
	DEADLINE=30 collect r "$count" "$dir/r"
	sed 's/^/s said: /' "$dir/sent" | cmp - "$dir/r"
	for i in $(seq 1 "$count"); do
		DEADLINE=30 expect s "\"m $i $pad\" received by the server"
	done
	stop_host 1
	stop_host 2
}

# who_of NAME N: NAME's answer to /who, its N lines after the count
# line, sorted, into the file NAME.who.
who_of() {
	local i
	: >"$BATS_TEST_TMPDIR/$1.unsorted"
	for i in $(seq 1 "$2"); do
		read_line "$1" || return 1
		echo "$LINE" >>"$BATS_TEST_TMPDIR/$1.unsorted"
	done
	LC_ALL=C sort "$BATS_TEST_TMPDIR/$1.unsorted" >"$BATS_TEST_TMPDIR/$1.who"
}

# who_says NAME COUNT LINE...: NAME's /who is the line "who: COUNT
# connected" and the LINEs, in any order.
who_says() {
	local name=$1 n=$2
	shift 2
	say "$name" "/who"
	read_line "$name" || return 1
	[ "$LINE" = "who: $n connected" ] || {
		# The listing that follows is read, not left for the next.
		n=$(printf '%s' "$LINE" | sed -n 's/^who: \([0-9]*\) connected$/\1/p')
		[ -n "$n" ] && who_of "$name" "$n"
		return 1
	}
	who_of "$name" "$n" || return 1
	printf '%s\n' "$@" | LC_ALL=C sort | cmp -s - "$BATS_TEST_TMPDIR/$name.who"
}

@test "cluster: with NATS stopped, /who and /msg are answered from the mirror at once" {
	local i
	# One worker on host 1: a and c share it, so c's answers show that
	# a's /msg does not hold the worker.
	start_host 1 -w 1
	start_host 2
	on 1 a
	on 1 c
	on 2 b
	skip_to a "Client ($ADDR_b) connected"
	skip_to c "Client ($ADDR_b) connected"
	say a "/nick alice"
	expect a "ok: you are now alice"
	skip_to b "Client ($ADDR_a) is now known as alice"
	say b "/nick bob"
	expect b "ok: you are now bob"
	skip_to a "Client ($ADDR_b) is now known as bob"
	skip_to c "Client ($ADDR_b) is now known as bob"
	# Every NATS server stops answering (their sockets stay open).
	nats_all -STOP
	# The name is found in the mirror; the answer waits for the stream.
	say a "/msg BOB psst"
	say c "/who"
	expect c "who: 3 connected"
	who_of c 3
	printf '%s\n' "who: Client ($ADDR_c)" "who: alice ($ADDR_a)" \
	    "who: bob ($ADDR_b)" | LC_ALL=C sort | cmp - "$BATS_TEST_TMPDIR/c.who"
	say c "/who B*"
	expect c "who: 1 matching B*"
	expect c "who: bob ($ADDR_b)"
	say c "/msg"
	expect c "error: usage: /msg NAME TEXT"
	nats_all -CONT
	DEADLINE=15 answer a
	[ "$LINE" = "ok: sent to bob" ]
	DEADLINE=15 expect b "alice whispers: psst"
	stop_host 1
	stop_host 2
}

@test "cluster: /who follows arrivals, renames and departures on another host" {
	start_host 1
	start_host 2
	on 1 a
	on 2 b
	skip_to a "Client ($ADDR_b) connected"
	say b "/nick bob"
	# a's arrival may reach host 2 after b did: b may hear of it in
	# between.
	skip_to b "ok: you are now bob"
	skip_to a "Client ($ADDR_b) is now known as bob"
	DEADLINE=10 wait_for who_says a 2 "who: Client ($ADDR_a)" "who: bob ($ADDR_b)"
	say b "/nick robert"
	skip_to b "ok: you are now robert"
	skip_to a "bob is now known as robert"
	DEADLINE=10 wait_for who_says a 2 "who: Client ($ADDR_a)" "who: robert ($ADDR_b)"
	say a "/msg ROBERT hi"
	expect a "ok: sent to robert"
	skip_to b "Client ($ADDR_a) whispers: hi"
	say a "/msg bob hi"
	expect a "error: no such client: bob"
	say b "/quit"
	skip_to b "Goodbye."
	expect_eof b
	skip_to a "robert left"
	DEADLINE=10 wait_for who_says a 1 "who: Client ($ADDR_a)"
	stop_host 1
	stop_host 2
}

@test "cluster: a bridge started again makes the mirror anew: what changed while none listened" {
	local bridge
	start_host 1
	start_host 2
	on 1 a
	on 2 b
	on 2 c
	skip_to a "Client ($ADDR_c) connected"
	skip_to b "Client ($ADDR_c) connected"
	say b "/nick bob"
	# a's arrival may reach host 2 after c's: b may hear of it here.
	skip_to b "ok: you are now bob"
	skip_to a "Client ($ADDR_b) is now known as bob"
	DEADLINE=10 wait_for who_says a 3 "who: Client ($ADDR_a)" \
	    "who: bob ($ADDR_b)" "who: Client ($ADDR_c)"
	# Host 1's bridge hears nothing more, then dies; meanwhile host 2
	# changes: a rename, a departure, an arrival.
	bridge=$(bridge_row 1 | awk '{ print $2 }')
	[ -n "$bridge" ]
	kill -STOP "$bridge"
	say b "/nick robert"
	skip_to b "ok: you are now robert"
	say c "/quit"
	skip_to c "Goodbye."
	expect_eof c
	on 2 d
	say d "/nick dora"
	skip_to d "ok: you are now dora"
	kill -KILL "$bridge"
	# Its successor: the buckets as they are now.
	DEADLINE=20 wait_for who_says a 3 "who: Client ($ADDR_a)" \
	    "who: robert ($ADDR_b)" "who: dora ($ADDR_d)"
	say a "/msg DORA hello"
	DEADLINE=15 answer a
	[ "$LINE" = "ok: sent to dora" ]
	skip_to d "Client ($ADDR_a) whispers: hello"
	say a "/msg bob hello"
	answer a
	[ "$LINE" = "error: no such client: bob" ]
	stop_host 1
	stop_host 2
}
