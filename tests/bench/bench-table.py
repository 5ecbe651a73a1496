# SPDX-License-Identifier: LGPL-2.1-or-later
"""The table of tests/bench/bench-all.sh: the figures of the JSON documents
in a directory (rest.json, sample.json, launch.json; those missing are
left out), as Markdown, orchestrator beside its peer of the same run.

    /usr/bin/python3 tests/bench/bench-table.py DIR"""

import json
import os
import sys


def load(d, name):
    try:
        with open(os.path.join(d, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fmt(v, digits=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.*f" % (digits, v) if abs(v) < 1000 else "%.0f" % v
    return str(v)


def rest_rows(doc):
    rows = []
    ne = None
    for r in doc["results"]:
        if "node_exporter" in r:
            ne = r["node_exporter"]
            continue
        o, p = r.get("orchestrator"), r.get("fastapi")
        if not o:
            continue
        path = r["path"]
        if path.endswith("+miss"):
            what = "`GET %s`, %d jobs, no answer from the shim's cache" % (path[:-5], r["jobs"])
        else:
            what = "`GET %s`, %d jobs (wrk -t2 -c32)" % (path, r["jobs"])
        ours = "%s req/s; CPU/req %s ms (shim %s + daemon %s)" % (
            fmt(o.get("requests_per_s"), 0), fmt(o.get("cpu_ms_per_req"), 3),
            fmt(o.get("shim_cpu_ms_per_req"), 3), fmt(o.get("daemon_cpu_ms_per_req"), 3))
        peer = "-"
        if p:
            peer = "FastAPI+psutil: %s req/s; CPU/req %s ms (%sx)" % (
                fmt(p.get("requests_per_s"), 0), fmt(p.get("cpu_ms_per_req"), 3),
                fmt(r.get("cpu_ratio_vs_fastapi"), 1))
        if path.startswith("/metrics") and path != "/metrics/system" and ne:
            peer += "; node_exporter: CPU/scrape %s ms (%d series vs our %d)" % (
                fmt(ne.get("cpu_ms_per_req"), 3), doc["series"]["node_exporter"],
                doc["series"]["orchestrator_last_level"])
        rows.append((what, ours, peer, fmt(o.get("load1"), 1)))
    return rows


def sample_rows(doc):
    rows = []
    for name, b in (doc.get("backends") or {}).items():
        if not b:
            continue
        for lv in b.get("levels", []):
            what = "sampling tick, %d `sleep` jobs, %s, %d ms" % (lv["jobs"], name, b["interval_ms"])
            ours = "%s ms daemon CPU per tick; RSS %s MB" % (
                fmt(lv.get("daemon_cpu_ms_per_tick"), 3), fmt(lv.get("daemon_rss_mb"), 1))
            peer = "-"
            if lv["jobs"] and lv.get("psutil_cpu_ms_per_tick") is not None:
                peer = "psutil, same pids: %s ms (%sx)" % (
                    fmt(lv["psutil_cpu_ms_per_tick"], 3), fmt(lv.get("ratio"), 1))
            rows.append((what, ours, peer, "-"))
    return rows


def launch_rows(doc):
    rows = []
    sv = (doc.get("peer") or {}).get("supervisord")
    vs = doc.get("vs_supervisord") or {}
    for name, b in (doc.get("backends") or {}).items():
        if not b:
            continue
        what = "launch %s sequential `sleep 600`, %s" % (doc.get("jobs"), name)
        ours = ("%s s (%s jobs/s); create→exec p50 %s ms; CPU/launch daemon %s ms + monitor %s ms;"
                " List %s ms; RSS %s MB"
                % (fmt(b.get("launch_total_s")), fmt(b.get("jobs_per_s"), 0),
                   fmt(b.get("create_to_exec_p50_ms")),
                   fmt(b.get("daemon_cpu_per_launch_ms_schedstat")),
                   fmt(b.get("monitor_cpu_per_launch_ms")), fmt(b.get("list_ms")),
                   fmt(b.get("daemon_rss_mb"), 1)))
        peer = "-"
        if sv and "launch_total_s" in sv:
            r = vs.get(name) or {}
            peer = ("supervisord: %s s (%sx); start p50 %s ms; CPU/start %s ms (%sx the daemon,"
                    " %sx daemon+monitor); RSS %s MB"
                    % (fmt(sv.get("launch_total_s")), fmt(r.get("launch_speedup"), 1),
                       fmt(sv.get("start_p50_ms")), fmt(sv.get("cpu_per_launch_ms")),
                       fmt(r.get("cpu_ratio_daemon"), 1), fmt(r.get("cpu_ratio_daemon_monitor"), 1),
                       fmt(sv.get("rss_mb"), 1)))
        load = fmt(doc.get("load1"), 1)
        if sv and sv.get("load1") is not None:
            load += " (peer %s)" % fmt(sv.get("load1"), 1)
        rows.append((what, ours, peer, load))
    return rows


def main():
    d = sys.argv[1]
    rows = []
    for name, f in (("rest", rest_rows), ("sample", sample_rows), ("launch", launch_rows)):
        doc = load(d, name)
        if doc:
            try:
                rows += f(doc)
            except (KeyError, TypeError) as e:
                print("bench-table: %s.json: %r" % (name, e), file=sys.stderr)
    print("| what | orchestrator | peer, same run | load1 |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
