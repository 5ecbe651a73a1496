# SPDX-License-Identifier: LGPL-2.1-or-later
"""The launch peer of tests/bench/run-bench.sh: supervisord (Debian's
`supervisor`) starting N `sleep 600` programs one after the other, as
bench-launch starts N jobs: each start asked over its API (XML-RPC on a
unix socket, startProcess(name, wait=True), startsecs=0 so it answers once
the process runs), the next one asked when the last one answered.

Per run: the wall time of the N starts, each start's round trip, the CPU
supervisord used over them (schedstat, ns), its RSS with N running.  Then
every program is stopped and supervisord shut down; every pid it reported
is checked gone (and killed if not).  Prints one JSON object (medians over
the runs) on stdout.

    /usr/bin/python3 supervisord_launch.py --jobs=200 --runs=3 [--dir=DIR]
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport


def cpu_ns(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            total += int(f.read().split()[0])
    return total


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return None


def config(d, jobs):
    parts = ["""[unix_http_server]
file=%(d)s/supervisor.sock

[supervisord]
nodaemon=true
logfile=%(d)s/supervisord.log
pidfile=%(d)s/supervisord.pid
childlogdir=%(d)s/logs

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
""" % {"d": d}]
    for i in range(jobs):
        # Like a job: its own log file, not started until asked, no restart.
        parts.append("""
[program:j%(i)d]
command=sleep 600
autostart=false
autorestart=false
startsecs=0
stopsignal=TERM
redirect_stderr=true
stdout_logfile=%(d)s/logs/j%(i)d.log
""" % {"i": i, "d": d})
    return "".join(parts)


def percentile(sorted_v, p):
    rank = max(1, min(len(sorted_v), int(p / 100.0 * len(sorted_v) + 0.999999)))
    return sorted_v[rank - 1]


def one_run(base, jobs, run):
    d = os.path.join(base, "run%d" % run)
    os.makedirs(os.path.join(d, "logs"))
    conf = os.path.join(d, "supervisord.conf")
    with open(conf, "w") as f:
        f.write(config(d, jobs))
    sock = os.path.join(d, "supervisor.sock")
    proc = subprocess.Popen(["supervisord", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    pids = []
    try:
        deadline = time.monotonic() + 60
        while True:
            # A transport whose first request failed stays broken: a new one
            # each try.
            rpc = xmlrpc.client.ServerProxy("http://127.0.0.1",
                                            transport=SupervisorTransport(None, None, "unix://" + sock))
            try:
                if rpc.supervisor.getState()["statename"] == "RUNNING":
                    break
            except (OSError, http.client.HTTPException, xmlrpc.client.Error):
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("supervisord did not come up")
            time.sleep(0.05)
        time.sleep(0.5)  # settled, as bench-launch lets the daemon idle first

        lat = []
        cpu0 = cpu_ns(proc.pid)
        t0 = time.monotonic()
        for i in range(jobs):
            s = time.monotonic()
            if not rpc.supervisor.startProcess("j%d" % i, True):
                raise RuntimeError("startProcess j%d refused" % i)
            lat.append((time.monotonic() - s) * 1000.0)
        t1 = time.monotonic()
        cpu1 = cpu_ns(proc.pid)
        rss = rss_mb(proc.pid)
        infos = rpc.supervisor.getAllProcessInfo()
        pids = [p["pid"] for p in infos if p["pid"]]
        running = sum(1 for p in infos if p["statename"] == "RUNNING")
        rpc.supervisor.stopAllProcesses(True)
        rpc.supervisor.shutdown()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = 0
    for pid in pids:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if f.read() == b"sleep\x00600\x00":
                    left += 1
                    os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    lat.sort()
    r = {"launch_total_s": t1 - t0, "jobs_per_s": jobs / (t1 - t0),
         "start_p50_ms": percentile(lat, 50), "start_p95_ms": percentile(lat, 95),
         "cpu_per_launch_ms": (cpu1 - cpu0) / 1e6 / jobs, "rss_mb": rss,
         "running": running, "leftover_jobs": left, "load1": os.getloadavg()[0]}
    print("supervisord: run %d: %d starts in %.3f s, p50 %.3f ms, CPU %.3f ms per start"
          % (run, jobs, r["launch_total_s"], r["start_p50_ms"], r["cpu_per_launch_ms"]),
          file=sys.stderr)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir")
    a = ap.parse_args()
    version = subprocess.run(["supervisord", "--version"], capture_output=True,
                             text=True).stdout.strip()
    with tempfile.TemporaryDirectory(dir=a.dir, prefix="supervisord-launch-") as base:
        runs = [one_run(base, a.jobs, i) for i in range(a.runs)]
    out = {"peer": "supervisord %s, startProcess(name, wait=True) over XML-RPC, startsecs=0" % version,
           "jobs": a.jobs, "runs": a.runs, "aggregate": "median of runs"}
    for k in ("launch_total_s", "jobs_per_s", "start_p50_ms", "start_p95_ms",
              "cpu_per_launch_ms", "rss_mb", "load1"):
        out[k] = round(statistics.median(r[k] for r in runs), 4)
    out["leftover_jobs"] = sum(r["leftover_jobs"] for r in runs)
    out["running_min"] = min(r["running"] for r in runs)
    out["per_run"] = [{k: round(v, 4) for k, v in r.items()} for r in runs]
    print(json.dumps(out))
    return 0 if out["leftover_jobs"] == 0 and out["running_min"] == a.jobs else 1


if __name__ == "__main__":
    sys.exit(main())
