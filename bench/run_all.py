"""One command for the benchmarks of [register], [reports] and [review], on SQLite and PostgreSQL.

For each database: a fresh database (`flask init-db`, `flask seed-demo --people N`, 50,000 open
cases), then one gunicorn (bench/wsgi_bench.py: the real app plus /bench/halo) and, against it in
the same run:

- hello-world GET /bench/halo (wrk): the baseline, req/s and p99;
- the NIK check POST /cek (wrk, rotating NIKs of every status): ratio to hello (goal >= 0.70x)
  and p99 as a ratio to hello's p99 (goal <= 1.5x);
- report submissions POST /lapor with 16 concurrent clients (each a new person, so a new case):
  ratio to hello at the same concurrency (goal >= 0.20x, zero errors);
- the reviewer queue GET /verifikasi as a signed-in admin, 300 sequential requests: p99
  (goal <= 20 ms; client-side time on loopback, so an upper bound of the server time).

    .venv/bin/python bench/run_all.py [--people 200000] [--seconds 8]
        [--backends sqlite,postgresql] [--pg-url postgresql://postgres@127.0.0.1:5432/test]

Needs wrk (apt-get install wrk). Port 8111. PostgreSQL: a throw-away database is created on the
server named by --pg-url and dropped afterwards.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_check
import bench_queue
import bench_reports
import common

PORT = 8111


def prepare(url: str, people: int, cases: int) -> tuple[list[str], str]:
    """Schema, register, an admin account and open cases; returns NIKs to check and the admin's
    TOTP secret."""
    env = common.bench_env(url)
    common.flask(env, "init-db")
    common.flask(env, "seed-demo", "--people", str(people), "--seed", "1")
    import models
    from app import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": env["SECRET_KEY"],
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context(), models.db.connection_context():
        secret = common.add_admin()
        bench_queue.fill(cases, 0)
        niks = [n for n, in models.Person.select(models.Person.nik)
                .order_by(models.Person.nik).limit(400).tuples()]
        enrolled = [n for n, in models.Enrolment.select(models.Enrolment.person)
                    .limit(60).tuples()]
    common.close_pool()
    niks += enrolled + [n[:12] + "9999" for n in niks[:30]] + ["351016130580001"]
    return niks, secret


def queue_p99(secret: str, requests: int = 300) -> float:
    """The queue as a signed-in admin, one request after another: p99 in ms (the first 20 are
    a warm-up)."""
    browser = common.Browser(PORT)
    browser.sign_in(totp_secret=secret)
    samples = []
    for i in range(requests + 20):
        began = time.perf_counter()
        response = browser.get("/verifikasi")
        if response.status != 200 or b"data-sisa-hari" not in response.body:
            sys.exit(f"queue answered {response.status}")
        if i >= 20:  # warm-up
            samples.append((time.perf_counter() - began) * 1000)
    return common.percentile(samples, 99)


def run_backend(name: str, url: str, people: int, seconds: int) -> dict:
    print(f"[{name}] preparing {people:,} people and 50,000 open cases ...", flush=True)
    niks, secret = prepare(url, people, 50_000)
    env = common.bench_env(url)
    with common.Gunicorn(PORT, env, (os.cpu_count() or 1) + 1), \
            tempfile.TemporaryDirectory() as tmp:
        script = bench_check.check_script(tmp, niks, fragment=True)

        def wrk(seconds, path, script=None):
            return common.wrk(PORT, path, seconds, script=script)

        wrk(2, "/bench/halo")
        wrk(2, "/cek", script)
        hello = [wrk(seconds, "/bench/halo")]
        check = wrk(seconds, "/cek", script)
        hello.append(wrk(seconds, "/bench/halo"))
        bench_reports.run("halo", PORT, 16, 1)
        hello16, _, hello16_errors = bench_reports.run("halo", PORT, 16, seconds)
        reports, _, report_errors = bench_reports.run("lapor", PORT, 16, seconds)
        queue = queue_p99(secret)
    hello_rps = statistics.mean(h[0] for h in hello)
    hello_p99 = statistics.mean(h[1] for h in hello)
    return {"hello": hello_rps, "hello_p99": hello_p99, "check": check[0],
            "check_p99": check[1], "hello16": hello16, "reports": reports,
            "errors": hello16_errors + report_errors, "queue_p99": queue}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    results = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp, common.Databases(
                Path(tmp), args.pg_url if backend == "postgresql" else None) as databases:
            results[backend] = run_backend(backend, databases.fresh("run-all"), args.people,
                                           args.seconds)
    print(f"\n{args.people:,} people, 50,000 open cases, {os.cpu_count()} CPUs, "
          f"{args.seconds} s per measurement")
    for backend, r in results.items():
        print(f"\n{backend}:")
        print(f"  hello-world     {r['hello']:8.0f} req/s   p99 {r['hello_p99']:6.1f} ms")
        print(f"  NIK check       {r['check']:8.0f} req/s   ratio {r['check'] / r['hello']:.2f}x"
              f" (goal >= 0.70)   p99 {r['check_p99']:6.1f} ms = "
              f"{r['check_p99'] / r['hello_p99']:.2f}x hello's (goal <= 1.5)")
        print(f"  report POST     {r['reports']:8.0f} req/s   ratio "
              f"{r['reports'] / r['hello16']:.2f}x of hello at 16 clients "
              f"({r['hello16']:.0f} req/s; goal >= 0.20), errors {r['errors']}")
        print(f"  queue page      p99 {r['queue_p99']:6.1f} ms (goal <= 20)")


if __name__ == "__main__":
    main()
