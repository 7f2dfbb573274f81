"""Benchmark: report submissions per second under gunicorn, as a ratio to a hello-world route.

Starts gunicorn (4 workers, bench/common.py) on a throw-away SQLite database made by
`flask init-db`, then runs 16 concurrent clients (separate processes, each sending what a
resident's browser sends: no cookie, no token, `Sec-Fetch-Site: same-origin`) against GET
/bench/halo and against POST /lapor with a new person each time (each one a new case through
stage 1), for the same number of seconds each. Rate limiting is off: from
one address it would answer 429 after 30 reports. Goal: ratio >= 0.20 with zero errors.

    .venv/bin/python bench/bench_reports.py [--seconds 12] [--clients 16] [--port 8202]
"""
from __future__ import annotations

import argparse
import datetime
import http.client
import multiprocessing
import os
import sys
import tempfile
import time
import urllib.parse

import common

from nik import make_nik


def client(kind: str, index: int, port: int, start: float, stop: float, out) -> None:
    """One resident's browser: `index` is unique over the whole run, so every NIK is new."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=index * 10)
    serial, ok, errors = 0, 0, 0
    while time.time() < start:
        time.sleep(0.001)
    while time.time() < stop:
        try:
            if kind == "halo":
                conn.request("GET", "/bench/halo")
                response = conn.getresponse()
                response.read()
                good = response.status == 200
            else:
                serial += 1
                day = birth + datetime.timedelta(days=serial // 9999)
                nik = make_nik("351016", day, index % 2 == 1, serial % 9999 + 1)
                body = urllib.parse.urlencode(common.report_form(
                    nik, pelapor_nama=f"Pelapor {index}", nama="WARGA BARU"))
                # As a resident's browser sends it: no cookie, no token (web/origin.py).
                conn.request("POST", "/lapor", body, {
                    "Sec-Fetch-Site": "same-origin",
                    "Content-Type": "application/x-www-form-urlencoded"})
                response = conn.getresponse()
                response.read()
                good = response.status == 303
        except (OSError, http.client.HTTPException):
            good = False
            conn.close()
        if good:
            ok += 1
        else:
            errors += 1
    out.put((ok, errors))


_runs = iter(range(1000))


def run(kind: str, port: int, clients: int, seconds: float) -> tuple[float, int, int]:
    first = next(_runs) * clients
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    start = time.time() + 1.0  # every client is connected before the clock starts
    stop = start + seconds
    procs = [ctx.Process(target=client, args=(kind, first + i, port, start, stop, out))
             for i in range(clients)]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join()
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return ok / seconds, ok, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12,
                        help="measured seconds per kind, split over --rounds")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate the two kinds, so a busy neighbour hurts both alike")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8202)
    args = parser.parse_args()
    slot = args.seconds / args.rounds
    totals = {"halo": [0, 0], "lapor": [0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        env = common.bench_env(f"sqlite:///{tmp}/bench.db")
        common.flask(env, "init-db")
        with common.Gunicorn(args.port, env, args.workers):
            run("halo", args.port, args.clients, 1)  # warm-up
            run("lapor", args.port, args.clients, 1)
            for _ in range(args.rounds):
                for kind in ("halo", "lapor"):
                    _, ok, errors = run(kind, args.port, args.clients, slot)
                    totals[kind][0] += ok
                    totals[kind][1] += errors
    hello, hello_errors = totals["halo"][0] / args.seconds, totals["halo"][1]
    reports, report_errors = totals["lapor"][0] / args.seconds, totals["lapor"][1]
    stored = totals["lapor"][0]
    ratio = reports / hello
    print(f"cpus: {os.cpu_count()}, gunicorn workers: {args.workers}, "
          f"clients: {args.clients}, {args.seconds:g} s each")
    print(f"hello world      {hello:8.1f} req/s  errors {hello_errors}")
    print(f"report (POST)    {reports:8.1f} req/s  errors {report_errors}  "
          f"({stored} reports stored)")
    verdict = "ok" if ratio >= 0.20 and not (hello_errors or report_errors) else "BELOW GOAL"
    print(f"ratio            {ratio:8.2f}x  (goal >= 0.20, zero errors): {verdict}")
    sys.exit(0 if verdict == "ok" else 1)


if __name__ == "__main__":
    main()
