# SPDX-License-Identifier: LGPL-2.1-or-later
"""The peer of tests/bench/bench-rest.sh: a stand-in of the prototype that
orchestrator replaced, as issue 15 describes it -- FastAPI under uvicorn,
jobs kept in the process as subprocess.Popen objects, every figure read
with psutil when a request asks for it.  Small on purpose; the endpoints
and JSON keys are the orchestrator's own (GET /jobs/, /metrics/system,
/metrics), so wrk loads the same work on both.

    /usr/bin/python3 peer/fastapi_orch.py PORT NJOBS

starts NJOBS `sleep 600` jobs, prints "listening on http://127.0.0.1:PORT"
and serves until SIGTERM, when it kills its jobs."""

import datetime
import os
import signal
import subprocess
import sys
import time

import psutil
import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI(title="orchestrator prototype (bench peer)")
JOBS = {}  # id -> {"spec", "popen", "proc", "created", "restarts"}


def start_job(argv, name):
    stamp = datetime.datetime.utcnow().strftime("%Y%m%d_%H%M%S")
    job_id = "job_%s_%06x" % (stamp, len(JOBS))
    popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    JOBS[job_id] = {"argv": argv, "name": name, "popen": popen,
                    "proc": psutil.Process(popen.pid), "created": time.time(), "restarts": 0}


def job_record(job_id, job):
    rc = job["popen"].poll()
    rec = {"id": job_id, "name": job["name"], "argv": job["argv"], "pid": job["popen"].pid,
           "state": "running" if rc is None else ("exited" if rc == 0 else "failed"),
           "exit_code": rc if rc is not None else -1, "created_at": job["created"],
           "restarts": job["restarts"]}
    if rc is None:
        try:
            with job["proc"].oneshot():
                rec["cpu_percent"] = job["proc"].cpu_percent(interval=None)
                rec["memory_bytes"] = job["proc"].memory_info().rss
                rec["threads"] = job["proc"].num_threads()
        except psutil.Error:
            pass
    return rec


def system_figures():
    vm = psutil.virtual_memory()
    disk = psutil.disk_usage("/")
    net = psutil.net_io_counters()
    load = os.getloadavg()
    return {"cpu_percent": psutil.cpu_percent(interval=None), "memory_total": vm.total,
            "memory_available": vm.available, "memory_used": vm.total - vm.available,
            "swap_used": psutil.swap_memory().used, "load_1": load[0], "load_5": load[1],
            "load_15": load[2], "uptime_s": time.time() - psutil.boot_time(),
            "disk_used": disk.used, "disk_total": disk.total, "net_bytes_recv": net.bytes_recv,
            "net_bytes_sent": net.bytes_sent, "process_count": len(psutil.pids())}


@app.get("/jobs/")
def list_jobs():
    return [job_record(i, j) for i, j in JOBS.items()]


@app.get("/metrics/system")
def metrics_system():
    return system_figures()


@app.get("/metrics", response_class=PlainTextResponse)
def metrics():
    lines = []
    for key, value in system_figures().items():
        lines += ["# TYPE orchestrator_system_%s gauge" % key,
                  "orchestrator_system_%s %s" % (key, value)]
    recs = [job_record(i, j) for i, j in JOBS.items()]
    for key in ("cpu_percent", "memory_bytes", "restarts"):
        lines.append("# TYPE orchestrator_job_%s gauge" % key)
        lines += ['orchestrator_job_%s{id="%s",name="%s"} %s' % (key, r["id"], r["name"], r[key])
                  for r in recs if key in r]
    return "\n".join(lines) + "\n"


def main():
    port, njobs = int(sys.argv[1]), int(sys.argv[2])
    for i in range(njobs):
        start_job(["sleep", "600"], "sleep-%d" % i)

    def stop(*_):
        for job in JOBS.values():
            job["popen"].kill()
            job["popen"].wait()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    print("listening on http://127.0.0.1:%d" % port, flush=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # our SIGTERM handler stays
    server.run()


if __name__ == "__main__":
    main()
