#!/usr/bin/env python3
"""Reads `perf script -F comm,pid,time,event` of trace-launch.sh on stdin,
prints the launch stages' figures as JSON (see trace-launch.sh)."""
import json
import re
import statistics
import sys

# (stage name, event that starts it, event that ends it), in launch order.
STAGES = [
    ("create_to_dispatch", "send", "open_log"),
    ("dispatch_to_fork", "open_log", "orch_launch_fork"),
    ("fork_to_forked", "orch_launch_fork", "orch_launch_fork_ret"),
    ("forked_to_persist", "orch_launch_fork_ret", "insert_new"),
    ("persist", "insert_new", "insert_new_ret"),
    ("persisted_to_released", "insert_new_ret", "orch_launch_release"),
    ("released_to_status", "orch_launch_release", "status_cb"),
    ("status_to_changed", "status_cb", "daemon_job_changed"),
    ("changed_to_received", "daemon_job_changed", "recv"),
]
LINE = re.compile(r"\s*(\S+)\s+(\d+)\s+([\d.]+):\s+(\S+):")


def launches(lines):
    """Each launch: the bench's Create (its sendmsg) to the next one."""
    cur = None
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        comm, t, ev = m.group(1), float(m.group(3)), m.group(4)
        name = ev.split(":", 1)[1].removeprefix("tl_").removesuffix("__return")
        if comm == "bench-launch" and name == "sys_enter_sendmsg":
            if cur and "recv" in cur:
                yield cur
            # A bench's Stop or List also sends: only a Create starts one.
            cur = {"send": t}
        elif cur is None:
            continue
        elif name == "sys_exit_recvmsg":
            # The first message the bench gets after the running state.
            if comm == "bench-launch" and "daemon_job_changed" in cur:
                cur.setdefault("recv", t)
        elif name == "sched_process_exec":
            if comm != "orchestrator-mo":
                cur.setdefault("job_exec", t)
        elif name == "daemon_job_changed":
            if "status_cb" in cur:
                cur.setdefault(name, t)
        elif not name.startswith("sys_"):
            cur.setdefault(name, t)
    if cur and "recv" in cur:
        yield cur


def figures(values):
    values = sorted(values)
    return {
        "p50_ms": round(statistics.median(values), 3),
        "p90_ms": round(values[int(len(values) * 0.9)], 3),
        "mean_ms": round(statistics.mean(values), 3),
    }


def main():
    backend, jobs = sys.argv[1], int(sys.argv[2])
    seen = [x for x in launches(sys.stdin) if "open_log" in x]
    if len(seen) < jobs // 2:
        sys.exit(f"trace-launch: only {len(seen)} of {jobs} launches traced")
    out = {"backend": backend, "jobs": jobs, "launches_traced": len(seen),
           "stages": {}}
    for name, a, b in STAGES:
        d = [(x[b] - x[a]) * 1000 for x in seen if a in x and b in x]
        if d:
            out["stages"][name] = figures(d)
    out["create_to_received"] = figures(
        [(x["recv"] - x["send"]) * 1000 for x in seen])
    out["released_to_job_exec"] = figures(
        [(x["job_exec"] - x["orch_launch_release"]) * 1000
         for x in seen if "job_exec" in x and "orch_launch_release" in x])
    json.dump(out, sys.stdout, indent=1)
    print()


main()
