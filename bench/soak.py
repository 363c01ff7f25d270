#!/usr/bin/env python3
# Copyright (c) 2026 The chatd authors.  See LICENSE.
"""bench/soak.py -- the soak: load, faults and a checker, against chatd.

Run through bench/soak.sh (which says how).  One process, one poll()
loop over every client socket, on loopback only.  It starts chatd,
then for SOAK_SECONDS keeps hundreds of clients coming and going:

  good     well-behaved readers; some also send numbered messages
           ("m NICK SEQ") at a human rate.  They join and leave at
           random and in bursts (a burst leaves in the same instant).
  silent   never read (a tiny receive buffer): must be dropped with a
           reason, never slow anyone else down
  flood    send numbered, long lines as fast as the socket takes them
           (reading and discarding what comes), then vanish (sometimes
           with a reset)
  garbage  random bytes (controls, escapes, telnet, bad UTF-8), vanish
  long     over-long lines, then half a line, then vanish

and a driver kill -9s a random worker and SIGSTOPs another for a moment
now and then.  The checker works from what the good clients received:

  - every message a good client received from a sender comes in the
    sender's order, once; no published message is missing between two
    it received (unless a "*** N messages lost" line came in between,
    or the client's worker was killed);
  - every good client's lines fit one global order (the union of their
    orders has no cycle);
  - a good client whose connection ended without its asking was on a
    killed worker, or some other client saw it leave with a reason;
  - a newcomer is welcomed within ADMIT_MS;
  - every worker killed is replaced within REPLACE_MS, no zombie lives
    longer than a check interval;
  - at the end, with every client gone: no worker holds more
    descriptors than a fresh one did, no process grew its memory by
    more than MEM_GROWTH_MB, chatd stops on SIGTERM with status 0, no
    process is left, its /dev/shm object is gone.

One summary line; exit status 1 on any violation (the first ones are
listed before it), 2 on bad usage.  Python, not C: the work is
bookkeeping (sets, orders, a graph), a few hundred sockets at a human
message rate is well within one poll() loop, and it is a test tool,
not part of the product.
"""

import errno
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import time

ADMIT_MS = 5000         # connect() to the welcome line
REPLACE_MS = 2000       # a killed worker's replacement is running
# Per process, start to end, clients gone.  AddressSanitizer keeps freed
# memory in quarantine (256 MiB by default), so a sanitized chatd
# (SOAK_MEM_MB=512, as make sanitize runs it) is allowed more.
MEM_GROWTH_MB = int(os.environ.get("SOAK_MEM_MB", "64"))
STOP_MAX_S = 3.0        # a SIGSTOP lasts at most this long
LINGER_S = 15           # the end: clients gone, descriptors back, bound


def now():
    return time.monotonic()


class Soak:
    def __init__(self, chatd, seconds, seed, workers, verbose, args=()):
        self.chatd = chatd
        self.args = list(args)
        self.seconds = seconds
        self.rng = random.Random(seed)
        self.seed = seed
        self.workers = workers
        self.verbose = verbose
        self.violations = []
        self.clients = {}           # fd -> Client
        self.by_nick = {}           # nick -> Client, while connected
        self.drops = []             # good clients the server dropped
        self.last_cont = 0.0        # when the last stopped worker resumed
        self.poll = select.poll()
        self.nick_seq = 0
        self.published = set()      # (sender, seq) seen anywhere or acked
        self.gaps = []              # (client nick, sender, seq) missing
        self.edges = {}             # id -> set of next ids
        self.ids = {}               # (sender, seq) -> int
        self.left_reason = {}       # nick -> reason seen by someone
        self.untethered = set()     # client local ports of killed workers
        self.stats = dict(connects=0, welcomed=0, messages=0,
                          deliveries=0, kills=0, stops=0, lost_lines=0,
                          lost_msgs=0, drops_reason=0, admit_max=0.0,
                          refused=0, good_max=0)

    # -- reporting ---------------------------------------------------
    def violation(self, what):
        self.violations.append(what)
        if self.verbose:
            print("soak: VIOLATION " + what, file=sys.stderr, flush=True)

    def log(self, what):
        if self.verbose:
            print("soak: %6.1f %s" % (now() - self.t0, what),
                  file=sys.stderr, flush=True)

    # -- the server --------------------------------------------------
    def start_server(self):
        self.logf = open(self.logpath, "w")
        self.server = subprocess.Popen(
            [self.chatd, "-w", str(self.workers), "-b", "127.0.0.1",
             "-p", "0", "-u", "none", "-m", "4000"] + self.args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.logf)
        end = now() + 10
        while now() < end:
            with open(self.logpath) as f:
                m = re.search(r"ready tcp=127\.0\.0\.1:(\d+) ", f.read())
            if m:
                self.port = int(m.group(1))
                return
            if self.server.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit("soak: chatd did not become ready; see "
                         + self.logpath)

    def children(self):
        """Worker pid -> state letter, from /proc."""
        kids = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            rest = st[st.rindex(")") + 2:].split()
            if int(rest[1]) == self.server.pid:
                kids[int(d)] = rest[0]
        return kids

    @staticmethod
    def nfds(pid):
        try:
            return len(os.listdir("/proc/%d/fd" % pid))
        except OSError:
            return -1

    @staticmethod
    def rss_kb(pid):
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return -1

    def client_ports(self, pid):
        """Peer ports of the TCP sockets process pid holds."""
        inodes = set()
        try:
            for fd in os.listdir("/proc/%d/fd" % pid):
                try:
                    t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
                except OSError:
                    continue
                if t.startswith("socket:["):
                    inodes.add(t[8:-1])
        except OSError:
            return set()
        ports = set()
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                p = line.split()
                if p[9] in inodes:
                    ports.add(int(p[2].split(":")[1], 16))
        return ports

    # -- clients -----------------------------------------------------
    def new_nick(self, kind):
        self.nick_seq += 1
        return "%s%d" % (kind[0], self.nick_seq)

    def connect(self, kind, sender=False):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if kind == "silent":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", self.port))
        except BlockingIOError:
            pass
        except OSError as e:
            self.violation("connect: %s" % e)
            s.close()
            return None
        c = Client(self, s, kind, self.new_nick(kind), sender)
        self.clients[s.fileno()] = c
        self.by_nick[c.nick] = c
        # Those that never read are watched for a hang-up only.
        self.poll.register(s.fileno(), 0 if kind == "silent"
                           else select.POLLIN)
        self.stats["connects"] += 1
        return c

    def remove(self, c):
        fd = c.sock.fileno()
        if fd in self.clients:
            self.poll.unregister(fd)
            del self.clients[fd]
        self.by_nick.pop(c.nick, None)
        c.sock.close()
        c.closed = True

    def msg_id(self, key):
        i = self.ids.get(key)
        if i is None:
            i = self.ids[key] = len(self.ids)
        return i

    # -- faults ------------------------------------------------------
    def kill_worker(self):
        kids = [p for p, st in self.children().items() if st != "Z"]
        kids = [p for p in kids if p not in self.stopped]
        if len(kids) < 2:
            return
        victim = self.rng.choice(kids)
        ports = self.client_ports(victim)
        # Clients not yet welcomed may sit in its accept queue.
        pending = {c.port for c in self.clients.values()
                   if c.welcomed is None}
        os.kill(victim, signal.SIGKILL)
        self.untethered |= ports | pending
        for c in self.clients.values():
            if c.port in ports or c.port in pending:
                c.untethered = True
        self.stats["kills"] += 1
        self.kills.append((now(), victim))
        self.log("killed worker %d (%d clients)" % (victim, len(ports)))

    def stop_worker(self):
        kids = [p for p, st in self.children().items() if st == "S"
                or st == "R"]
        kids = [p for p in kids if p not in self.stopped]
        if len(kids) < 2:
            return
        victim = self.rng.choice(kids)
        # Readers that stall and a flood while it is stopped: when it
        # resumes it is far behind, and drops readers as it catches up.
        for _ in range(4):
            self.connect("silent")
        for _ in range(2):
            self.connect("flood")
        os.kill(victim, signal.SIGSTOP)
        # From a blink to STOP_MAX_S, evenly on a log scale: short stops
        # leave it part of a ring behind, long ones a whole ring.
        self.stopped[victim] = now() + 0.05 * (STOP_MAX_S / 0.05) ** \
            self.rng.random()
        self.stats["stops"] += 1
        self.log("stopped worker %d" % victim)

    def cont_workers(self, force=False):
        for pid, until in list(self.stopped.items()):
            if force or now() >= until:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                del self.stopped[pid]
                self.last_cont = now()
                self.log("continued worker %d" % pid)

    def check_workers(self):
        kids = self.children()
        t = now()
        for pid, st in kids.items():
            if st == "Z":
                first = self.zombies.setdefault(pid, t)
                if t - first > 1.5:
                    self.violation("worker %d a zombie for %.1fs"
                                   % (pid, t - first))
                    self.zombies[pid] = float("inf")
        live = [p for p, st in kids.items() if st != "Z"]
        if len(live) < self.workers:
            if self.short_since is None:
                self.short_since = t
            elif (t - self.short_since) * 1000 > REPLACE_MS:
                self.violation("%d workers of %d for %.1fs"
                               % (len(live), self.workers,
                                  t - self.short_since))
                self.short_since = float("inf")
        else:
            self.short_since = None
        for p in live:
            self.rss_peak[p] = max(self.rss_peak.get(p, 0),
                                   self.rss_kb(p))

    # -- the run -----------------------------------------------------
    def run(self, logpath):
        self.logpath = logpath
        self.t0 = now()
        self.stopped = {}
        self.kills = []
        self.zombies = {}
        self.short_since = None
        self.rss_peak = {}
        self.start_server()
        time.sleep(0.2)
        kids = self.children()
        base_fds = max(self.nfds(p) for p in kids)
        base_rss = {p: self.rss_kb(p) for p in kids}
        base_rss[self.server.pid] = self.rss_kb(self.server.pid)
        self.log("chatd %d on port %d, workers %s, %d fds each"
                 % (self.server.pid, self.port, sorted(kids), base_fds))

        end = self.t0 + self.seconds
        next_kill = self.t0 + self.rng.uniform(8, 25)
        next_stop = self.t0 + self.rng.uniform(4, 15)
        next_burst = self.t0 + self.rng.uniform(3, 10)
        next_check = self.t0 + 1
        next_bad = self.t0 + 1
        target_good = 150
        loops = 0
        while now() < end and loops < 10000000:
            loops += 1
            t = now()
            good = [c for c in self.clients.values() if c.kind == "good"]
            self.stats["good_max"] = max(self.stats["good_max"], len(good))
            # Churn: keep about target_good good clients, 1 in 4 sends.
            if len(good) < target_good and self.rng.random() < 0.3:
                self.connect("good", sender=self.rng.random() < 0.25)
            for c in good:
                if c.welcomed and self.rng.random() < 0.0005:
                    c.leave()
            if t >= next_burst:
                # A burst in, and a burst out in the same instant.
                for _ in range(self.rng.randint(20, 60)):
                    self.connect("good", sender=self.rng.random() < 0.1)
                leavers = [c for c in good if c.welcomed]
                for c in self.rng.sample(leavers, min(len(leavers), 40)):
                    c.leave()
                next_burst = t + self.rng.uniform(5, 15)
                self.log("burst: %d clients" % len(self.clients))
            if t >= next_bad:
                kind = self.rng.choice(["silent", "flood", "garbage",
                                        "long", "silent", "silent"])
                self.connect(kind)
                next_bad = t + self.rng.uniform(0.2, 1.0)
            if t >= next_kill:
                self.kill_worker()
                next_kill = t + self.rng.uniform(20, 45)
            if t >= next_stop:
                self.stop_worker()
                next_stop = t + self.rng.uniform(5, 12)
            self.cont_workers()
            if t >= next_check:
                self.check_workers()
                next_check = t + 1
            for c in list(self.clients.values()):
                c.tick(t)
            self.pump(10)
        self.cont_workers(force=True)
        self.finish(base_fds, base_rss)

    def pump(self, ms):
        for fd, ev in self.poll.poll(ms):
            c = self.clients.get(fd)
            if c is None:
                continue
            if ev & select.POLLOUT:
                c.flush()
            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                c.readable()

    def settle(self, clients):
        """Pump until these clients are gone, within LINGER_S."""
        end = now() + LINGER_S
        while any(not c.closed for c in clients) and now() < end:
            for c in list(self.clients.values()):
                c.tick(now())
            self.pump(20)

    def finish(self, base_fds, base_rss):
        """Every client leaves; then the end-of-run checks.

        The busiest worker's clients leave last, all in one instant and
        with no traffic after them: the round where a worker that had
        given up the listener (over its share) must take it back.
        """
        kids = [p for p, st in self.children().items() if st != "Z"]
        ports = {p: self.client_ports(p) for p in kids}
        busiest = max(kids, key=lambda p: len(ports[p]))
        last = [c for c in self.clients.values() if c.kind == "good" and
                c.port in ports[busiest]]
        first = [c for c in self.clients.values() if c not in last]
        for c in first:
            c.leave() if c.kind == "good" else c.vanish()
        self.settle(first)
        for c in last:
            c.leave()
        self.settle(last)
        for c in list(self.clients.values()):
            if c.kind == "good" and not c.untethered:
                self.violation("%s: no Goodbye within %ds of /quit"
                               % (c.nick, LINGER_S))
            self.remove(c)
        # Descriptors come back once the workers have closed everything.
        end = now() + LINGER_S
        while True:
            kids = [p for p, st in self.children().items() if st != "Z"]
            fds = {p: self.nfds(p) for p in kids}
            if all(n <= base_fds for n in fds.values()) or now() >= end:
                break
            time.sleep(0.1)
        for p, n in fds.items():
            if n > base_fds:
                self.violation("worker %d holds %d descriptors with no "
                               "client, a fresh one %d" % (p, n, base_fds))
        self.check_workers()
        worker_base = max(v for p, v in base_rss.items()
                          if p != self.server.pid)
        for p in [self.server.pid] + kids:
            grown = (self.rss_kb(p) - base_rss.get(p, worker_base)) / 1024
            if grown > MEM_GROWTH_MB:
                self.violation("process %d grew by %.0f MiB" % (p, grown))
        # A good client the server dropped: someone saw why.
        for nick in self.drops:
            reason = self.left_reason.get(nick)
            if reason is None:
                self.violation("%s disconnected without a reason" % nick)
            else:
                self.stats["drops_reason"] += 1
                self.log("%s dropped: %s" % (nick, reason))
        self.check_listeners()
        self.probe_spread()
        self.rss_end_mb = max([self.rss_kb(p) for p in kids] + [0]) / 1024
        self.check_order()
        # Stop: status 0, no process and no shared memory left.
        self.server.send_signal(signal.SIGTERM)
        try:
            rc = self.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.violation("chatd did not stop within 10s of SIGTERM")
            self.server.kill()
            rc = self.server.wait()
        if rc != 0:
            self.violation("chatd exited with status %d" % rc)
        end = now() + 3
        while now() < end and any(os.path.exists("/proc/%d" % p)
                                  for p in kids):
            time.sleep(0.05)
        for p in kids:
            if os.path.exists("/proc/%d" % p):
                self.violation("worker %d outlived chatd" % p)
                os.kill(p, signal.SIGKILL)
        if os.path.exists("/dev/shm/chatd-127.0.0.1-%d" % self.port):
            self.violation("/dev/shm/chatd-127.0.0.1-%d left behind" % self.port)
        with open(self.logpath) as f:
            for line in f:
                if re.search(r"Sanitizer|runtime error|fatal", line):
                    self.violation("chatd log: " + line.strip())
                    break

    def listener_fd(self, pid):
        """The fd number of the listening socket in pid, or None."""
        inode = None
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                p = line.split()
                if p[3] == "0A" and int(p[1].split(":")[1], 16) == self.port:
                    inode = "socket:[%s]" % p[9]
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == inode:
                    return int(fd)
            except OSError:
                pass
        return None

    def watches_listener(self, pid):
        """Whether pid's epoll set holds the listener; None: no epoll."""
        lfd = self.listener_fd(pid)
        seen_epoll = False
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            return None
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != \
                        "anon_inode:[eventpoll]":
                    continue
                seen_epoll = True
                with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                    for line in f:
                        if line.startswith("tfd:") and \
                                int(line.split()[1]) == lfd:
                            return True
            except (OSError, ValueError):
                pass
        return False if seen_epoll else None

    def check_listeners(self):
        """With no client left, every worker must be accepting again."""
        end = now() + LINGER_S
        while True:
            kids = [p for p, st in self.children().items() if st != "Z"]
            idle = [p for p in kids if self.watches_listener(p) is False]
            if not idle or now() >= end:
                break
            time.sleep(0.1)
        for p in idle:
            self.violation("worker %d has no client and does not accept "
                           "(the listener is not in its epoll set)" % p)

    def probe_spread(self):
        """With every client gone, newcomers must reach every worker."""
        kids = [p for p, st in self.children().items() if st != "Z"]
        n = 8 * len(kids)
        probes = []
        for i in range(n):
            c = self.connect("good")
            if c is None:
                return
            probes.append(c)
            # One at a time: each newcomer's welcome before the next.
            end = now() + ADMIT_MS / 1000
            while c.welcomed is None and not c.closed and now() < end:
                self.pump(10)
        ports = {c.port for c in probes}
        per = {p: len(self.client_ports(p) & ports) for p in kids}
        mean = n / len(kids)
        if min(per.values()) == 0 or max(per.values()) > 1.25 * mean + 1:
            self.violation("%d newcomers after everyone left spread as %s "
                           "over the workers" % (n, sorted(per.values())))
        self.stats["probe"] = sorted(per.values())
        for c in probes:
            c.leave()
        end = now() + LINGER_S
        while self.clients and now() < end:
            self.pump(20)
        for c in list(self.clients.values()):
            self.remove(c)

    def check_order(self):
        """Gaps against what was published; cycles in the union order."""
        for nick, sender, seq in self.gaps:
            if (sender, seq) in self.published:
                self.stats["lost_msgs"] += 1
                if self.stats["lost_msgs"] <= 5:
                    self.violation("%s missed %s's message %d"
                                   % (nick, sender, seq))
        # Iterative DFS for a cycle over the distinct adjacency edges.
        WHITE, GREY, BLACK = 0, 1, 2
        colour = {}
        for root in self.edges:
            if colour.get(root, WHITE) != WHITE:
                continue
            stack = [(root, iter(self.edges.get(root, ())))]
            colour[root] = GREY
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    colour[node] = BLACK
                    stack.pop()
                    continue
                c = colour.get(nxt, WHITE)
                if c == GREY:
                    self.violation("no global order: clients saw "
                                   "messages in conflicting orders")
                    return
                if c == WHITE:
                    colour[nxt] = GREY
                    stack.append((nxt, iter(self.edges.get(nxt, ()))))

    def summary(self):
        s = self.stats
        s["drops_reason"] = sum(1 for r in self.left_reason.values()
                                if r != "soak")
        return ("soak: %ds seed=%d workers=%d connects=%d peak_good=%d "
                "messages=%d deliveries=%d kills=%d stops=%d "
                "lost_announced=%d lost_unannounced=%d drops_with_reason=%d "
                "admit_max=%dms "
                "probe=%s rss_end=%.0fMiB violations=%d"
                % (self.seconds, self.seed, self.workers, s["connects"],
                   s["good_max"], len(self.published), s["deliveries"],
                   s["kills"], s["stops"], s["lost_lines"],
                   s["lost_msgs"], s["drops_reason"], s["admit_max"] * 1000,
                   "/".join(str(x) for x in s.get("probe", [])),
                   getattr(self, "rss_end_mb", 0), len(self.violations)))


SAID = re.compile(rb"^(\S+) said: m (\S+) (\d+)")
ACK = re.compile(rb'^"m (\S+) (\d+)')
LEFT = re.compile(rb"^(\S+) left \((.*)\)$")
LEFT_PLAIN = re.compile(rb"^(\S+) left$")
LOST = re.compile(rb"^\*\*\* (\d+) messages lost$")


class Client:
    def __init__(self, soak, sock, kind, nick, sender):
        self.soak = soak
        self.sock = sock
        self.kind = kind
        self.nick = nick
        self.sender = sender
        self.t_connect = now()
        self.welcomed = None
        self.named = False
        self.buf = b""
        self.out = b""
        self.seq = 0
        self.acked = 0
        self.last = {}          # sender -> (seq, loss epoch)
        self.epoch = 0
        self.prev = None        # last message id received
        self.quitting = False
        self.untethered = False
        self.closed = False
        self.port = sock.getsockname()[1]
        self.next_send = now() + soak.rng.uniform(0.5, 2.0)
        self.vanish_at = now() + soak.rng.uniform(
            *((2.0, 12.0) if kind == "flood" else (1.0, 6.0)))

    def send(self, data):
        self.out += data
        self.flush()

    def flush(self):
        if not self.out or self.closed:
            return
        try:
            n = self.sock.send(self.out)
            self.out = self.out[n:]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            self.out = b""
        fd = self.sock.fileno()
        if fd in self.soak.clients:
            self.soak.poll.modify(fd, select.POLLIN |
                                  (select.POLLOUT if self.out else 0))

    def leave(self):
        if not self.quitting:
            self.quitting = True
            self.send(b"/quit soak\n")

    def vanish(self):
        if self.soak.rng.random() < 0.5:
            # A reset instead of a FIN.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.soak.remove(self)

    def tick(self, t):
        if self.closed:
            return
        # A stopped worker may hold the newcomer: the clock starts again
        # when it resumes.
        if self.welcomed is None and not self.untethered and \
                self.kind == "good" and not self.soak.stopped and \
                t - max(self.t_connect, self.soak.last_cont) > \
                ADMIT_MS / 1000:
            self.soak.violation("%s not welcomed within %dms"
                                % (self.nick, ADMIT_MS))
            self.welcomed = -1   # report once
        if self.out:
            self.flush()
        k = self.kind
        if k == "good":
            if self.sender and self.named and not self.quitting and \
                    t >= self.next_send:
                self.seq += 1
                self.send(b"m %s %d %s\n" % (self.nick.encode(), self.seq,
                                             b"x" * self.soak.rng.randint(
                                                 0, 60)))
                self.next_send = t + self.soak.rng.uniform(0.5, 3.0)
            return
        if t >= self.vanish_at:
            if k == "long":
                self.send(b"half a line, never ended")
            if k != "silent" or t - self.t_connect > 30:
                self.vanish()
                return
        if k == "flood" and len(self.out) < 65536:
            for _ in range(20):
                self.seq += 1
                self.out += b"m %s %d %s\n" % (self.nick.encode(), self.seq,
                                               b"y" * 900)
            self.flush()
        elif k == "garbage" and len(self.out) < 4096:
            rng = self.soak.rng
            junk = bytes(rng.choice(b"\x00\x01\x1b[]\xff\xfb\xfa\xf0"
                                    b"\xc3\xa9\xe2\x80\xae\r\n\t abc%/")
                         for _ in range(rng.randint(1, 200)))
            self.send(junk)
        elif k == "long" and len(self.out) < 4096:
            self.send(b"z" * self.soak.rng.randint(1025, 3000) + b"\n")
        elif k == "silent" and not self.named:
            self.named = True
            self.send(b"/nick %s\n" % self.nick.encode())

    def readable(self):
        if self.kind == "silent":
            # Never read: the only event is the end of the connection.
            self.ended()
            return
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.ended()
            return
        if self.kind != "good":
            return
        self.buf += data
        lines = self.buf.split(b"\n")
        self.buf = lines.pop()
        for line in lines:
            self.line(line)

    def ended(self):
        """EOF or reset: fine if asked for or explained, else a violation."""
        s = self.soak
        s.remove(self)
        if self.kind != "good" or self.quitting or self.untethered or \
                self.port in s.untethered:
            return
        # Dropped by the server: judged at the end, when every line that
        # says why has arrived.
        s.drops.append(self.nick)

    def line(self, line):
        s = self.soak
        if self.welcomed is None:
            if line.startswith(b"Welcome, "):
                self.welcomed = now()
                s.stats["welcomed"] += 1
                s.stats["admit_max"] = max(s.stats["admit_max"],
                                           self.welcomed - self.t_connect)
                self.send(b"/nick %s\n" % self.nick.encode())
            elif line == b"error: server full":
                s.stats["refused"] += 1
                s.violation("%s refused: server full" % self.nick)
            return
        m = SAID.match(line)
        if m:
            if m.group(1) != m.group(2):
                return
            sender = m.group(2).decode()
            seq = int(m.group(3))
            key = (sender, seq)
            s.published.add(key)
            s.stats["deliveries"] += 1
            last = self.last.get(sender)
            if last is not None:
                lseq, lepoch = last
                if seq <= lseq:
                    s.violation("%s got %s's message %d after %d "
                                "(duplicate or reordered)"
                                % (self.nick, sender, seq, lseq))
                elif seq > lseq + 1 and lepoch == self.epoch:
                    for q in range(lseq + 1, min(seq, lseq + 1000)):
                        s.gaps.append((self.nick, sender, q))
            self.last[sender] = (seq, self.epoch)
            i = s.msg_id(key)
            if self.prev is not None and self.prev != i:
                s.edges.setdefault(self.prev, set()).add(i)
            self.prev = i
            return
        m = ACK.match(line)
        if m and m.group(1).decode() == self.nick:
            seq = int(m.group(2))
            s.published.add((self.nick, seq))
            if seq != self.acked + 1:
                s.violation("%s: ack for %d after %d"
                            % (self.nick, seq, self.acked))
            self.acked = seq
            return
        if line == b"ok: you are now " + self.nick.encode():
            self.named = True
            return
        m = LEFT.match(line)
        if m:
            s.left_reason[m.group(1).decode()] = m.group(2).decode()
            return
        m = LEFT_PLAIN.match(line)
        if m:
            # "X left": X closed by itself.  One we still hold open was
            # dropped by the server, which owed everyone a reason.
            c = s.by_nick.get(m.group(1).decode())
            if c is not None and not c.closed and not c.quitting and \
                    not c.untethered and c.port not in s.untethered:
                s.violation("%s left without a reason while still "
                            "connected" % c.nick)
                c.untethered = True     # once
            return
        m = LOST.match(line)
        if m:
            self.epoch += 1
            self.prev = None    # the order resumes after a hole
            s.stats["lost_lines"] += 1
            return
        if line.startswith(b"error: ") and not self.untethered:
            s.violation("%s got %r" % (self.nick, line))


def main():
    chatd = os.environ.get("CHATD", "./chatd")
    seconds = int(os.environ.get("SOAK_SECONDS", "600"))
    seed = int(os.environ.get("SOAK_SEED", str(int(time.time()))))
    workers = int(os.environ.get("SOAK_WORKERS", "4"))
    verbose = os.environ.get("SOAK_VERBOSE", "") != ""
    logpath = os.environ.get("SOAK_LOG", "/tmp/soak-chatd.%d.log"
                             % os.getpid())
    if not 1 <= seconds <= 86400 or not 2 <= workers <= 64:
        print("soak: SOAK_SECONDS 1-86400, SOAK_WORKERS 2-64",
              file=sys.stderr)
        return 2
    # A small ring and send queue, so that a stopped worker falls far
    # behind and a reader that stalls is dropped within seconds.
    args = os.environ.get("SOAK_CHATD_ARGS", "-q 64k -R 256k -a 0").split()
    soak = Soak(chatd, seconds, seed, workers, verbose, args)
    try:
        soak.run(logpath)
    finally:
        if soak.__dict__.get("server") and soak.server.poll() is None:
            soak.cont_workers(force=True)
            soak.server.kill()
            soak.server.wait()
    for v in soak.violations[:10]:
        print("soak: violation: " + v)
    if len(soak.violations) > 10:
        print("soak: ... and %d more" % (len(soak.violations) - 10))
    print(soak.summary())
    print("soak: chatd log: " + logpath)
    return 1 if soak.violations else 0


if __name__ == "__main__":
    sys.exit(main())
