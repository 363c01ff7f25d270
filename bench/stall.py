#!/usr/bin/env python3
# Copyright (c) 2026 The chatd authors.  See LICENSE.
"""bench/stall.py -- how long a worker stopped with SIGSTOP holds up the
others (issue 8: no longer than the untether bound, HUB_STALL_MS = 1 s).

chatd -w 4 under chatbench load (100 clients, 10 senders as fast as
acknowledged, -r 0); a probe sender and a probe receiver on two workers,
the sender stamping a line every 5 ms; a third worker, serving neither,
is stopped for STOP seconds in the middle of the run.  Printed: the
probe's latency before, during and after the stop (median and max, ms),
and the longest gap between two probe lines received.

    python3 bench/stall.py                      # ./chatd, ./chatbench
    CHATD=/old/chatd STOP=3 python3 bench/stall.py

Loopback only; every run is bounded (chatbench -d, the probe's clock).
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

CHATD = os.environ.get("CHATD", "./chatd")
CHATBENCH = os.environ.get("CHATBENCH", "./chatbench")
STOP = float(os.environ.get("STOP", "3"))
BEFORE = 2.0            # seconds of load before the stop
AFTER = 2.0             # and after it
PERIOD = 0.005          # one probe line every 5 ms


def wait_for(pred, what, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    sys.exit("stall: timed out waiting for " + what)


def main():
    log = tempfile.NamedTemporaryFile(prefix="stall-", suffix=".log",
                                      delete=False)
    srv = subprocess.Popen([CHATD, "-b", "127.0.0.1", "-p", "0", "-u",
                            "none", "-r", "0", "-a", "0", "-w", "4", "-v"],
                           stderr=log)
    try:
        run(srv, log.name)
    finally:
        srv.send_signal(signal.SIGCONT)
        srv.terminate()
        srv.wait(timeout=10)
        os.unlink(log.name)


def log_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def worker_of(path, sock):
    """The worker that accepted sock, from chatd -v's log."""
    port = sock.getsockname()[1]
    m = re.search(r"worker (\d+): 127\.0\.0\.1:%d connected" % port,
                  log_text(path))
    return int(m.group(1)) if m else None


def run(srv, path):
    m = wait_for(lambda: re.search(r": ready tcp=[^ ]*:(\d+) ",
                                   log_text(path)), "the ready line")
    port = int(m.group(1))
    duration = BEFORE + STOP + AFTER
    bench = subprocess.Popen([CHATBENCH, "-c", "100", "-s", "10", "-l",
                              "64", "-d", str(int(duration + 2)),
                              "127.0.0.1", str(port)],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    # Probes on two different workers.
    probes = []
    while len(probes) < 2:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        w = wait_for(lambda: worker_of(path, s), "a probe's worker")
        if probes and probes[0][1] == w:
            s.close()
            continue
        probes.append((s, w))
    (tx, wtx), (rx, wrx) = probes
    victim = next(w for w in (1, 2, 3, 4) if w not in (wtx, wrx))
    table = subprocess.run([CHATD, "-S", "-b", "127.0.0.1", "-p",
                            str(port)], capture_output=True, text=True,
                           timeout=10).stdout
    pid = int(re.search(r"^%d +(\d+) " % victim, table, re.M).group(1))

    t0 = time.monotonic()
    got = []                    # (received at, latency), seconds
    done = threading.Event()

    def reader():
        buf = b""
        rx.settimeout(0.5)
        while not done.is_set():
            try:
                data = rx.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return
            buf += data
            *lines, buf = buf.split(b"\n")
            now = time.monotonic()
            for line in lines:
                if b"probe" not in line:
                    continue
                m = re.search(rb"said: probe (\d+\.\d+)$", line)
                if m:
                    got.append((now - t0, now - float(m.group(1))))

    def discard():
        # The sender is a client too: it must read what it is sent.
        tx.settimeout(0.5)
        while not done.is_set():
            try:
                if not tx.recv(65536):
                    return
            except socket.timeout:
                continue

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    th2 = threading.Thread(target=discard, daemon=True)
    th2.start()
    stopped = resumed = None
    next_send = t0
    while time.monotonic() - t0 < duration:
        now = time.monotonic()
        if stopped is None and now - t0 >= BEFORE:
            os.kill(pid, signal.SIGSTOP)
            stopped = now - t0
        if resumed is None and now - t0 >= BEFORE + STOP:
            os.kill(pid, signal.SIGCONT)
            resumed = now - t0
        tx.sendall(b"probe %.6f\n" % time.monotonic())
        next_send += PERIOD
        time.sleep(max(0.0, next_send - time.monotonic()))
    time.sleep(0.5)
    done.set()
    th.join(timeout=2)
    th2.join(timeout=2)
    bench.wait(timeout=30)

    def show(name, lo, hi):
        lat = sorted(l for t, l in got if lo <= t < hi)
        if not lat:
            print("| %s | 0 | - | - |" % name)
            return
        print("| %s | %d | %.1f | %.1f |" % (name, len(lat),
              lat[len(lat) // 2] * 1e3, lat[-1] * 1e3))

    print("chatd -w 4 under chatbench (100 clients, 10 senders); worker %d "
          "(pid %d) stopped for %.0f s; probe from worker %d to worker %d"
          % (victim, pid, STOP, wtx, wrx))
    print()
    print("| while | probe lines | median ms | max ms |")
    print("|---|---|---|---|")
    show("before the stop", 0, stopped)
    show("worker stopped", stopped, resumed)
    show("after it resumed", resumed, duration + 1)
    times = [t for t, l in got]
    gap = max((b - a for a, b in zip(times, times[1:])), default=0)
    print()
    print("longest gap between two probe lines received: %.0f ms "
          "(untether bound: 1000 ms)" % (gap * 1e3))


if __name__ == "__main__":
    main()
