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
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_check  # noqa: E402
import bench_queue  # noqa: E402
import bench_reports  # noqa: E402

PORT = 8111
PASSWORD = "bench-rahasia-123"


def flask(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, check=True,
                   input=stdin, text=True, capture_output=True)


def prepare(url: str, people: int, cases: int) -> list[str]:
    """Schema, register, an admin account and open cases; returns NIKs to check."""
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench",
               RATELIMIT_STORAGE_URI="memory://")
    flask(env, "init-db")
    flask(env, "seed-demo", "--people", str(people), "--seed", "1")
    flask(env, "create-user", "bench-admin", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    os.environ.update(DATABASE_URL=url, SECRET_KEY="bench", RATELIMIT_STORAGE_URI="memory://")
    import models
    from app import create_app

    app = create_app()
    with app.app_context(), models.db.connection_context():
        bench_queue.fill(cases, 0)
        niks = [n for n, in models.Person.select(models.Person.nik)
                .order_by(models.Person.nik).limit(400).tuples()]
        enrolled = [n for n, in models.Enrolment.select(models.Enrolment.person)
                    .limit(60).tuples()]
    if hasattr(models.db.obj, "close_all"):
        models.db.close_all()
    return niks + enrolled + [n[:12] + "9999" for n in niks[:30]] + ["351016130580001"]


def start(url: str) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench",
               RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ENABLED="false")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "-b", f"127.0.0.1:{PORT}",
         "-w", str((os.cpu_count() or 1) + 1), "--access-logfile", "/dev/null",
         "--max-requests", "0", "bench.wsgi_bench:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            conn.request("GET", "/bench/halo")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("gunicorn did not start")


def wrk(seconds: int, path: str, script: str | None = None) -> tuple[float, float]:
    """(requests per second, p99 latency in ms)."""
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency",
               "-H", "Accept-Encoding: br, gzip"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [f"http://127.0.0.1:{PORT}{path}"], capture_output=True,
                         text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit("errors during the run:\n" + out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    return rps, float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def queue_p99(requests: int = 300) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", PORT)
    conn.request("GET", "/masuk")
    response = conn.getresponse()
    html = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": "bench-admin",
                                   "password": PASSWORD})
    conn.request("POST", "/masuk", body, {"Cookie": cookie,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    samples = []
    for i in range(requests + 20):
        began = time.perf_counter()
        conn.request("GET", "/verifikasi", headers={"Cookie": cookie})
        response = conn.getresponse()
        page = response.read()
        if response.status != 200 or b"data-sisa-hari" not in page:
            sys.exit(f"queue answered {response.status}")
        if i >= 20:  # warm-up
            samples.append((time.perf_counter() - began) * 1000)
    return bench_queue.percentile(samples, 99)


def run_backend(name: str, url: str, people: int, seconds: int) -> dict:
    print(f"[{name}] preparing {people:,} people and 50,000 open cases ...", flush=True)
    niks = prepare(url, people, 50_000)
    server = start(url)
    try:
        token, cookie = bench_check.session(PORT)
        with tempfile.TemporaryDirectory() as tmp:
            script = os.path.join(tmp, "cek.lua")
            Path(script).write_text(bench_check.LUA % {
                "niks": ", ".join(f'"{n}"' for n in niks), "cookie": cookie, "token": token,
                "extra": ',\n ["HX-Request"] = "true"'})
            wrk(2, "/bench/halo")
            wrk(2, "/cek", script)
            hello = [wrk(seconds, "/bench/halo")]
            check = wrk(seconds, "/cek", script)
            hello.append(wrk(seconds, "/bench/halo"))
        bench_reports.run("halo", PORT, 16, 1)
        hello16, _, hello16_errors = bench_reports.run("halo", PORT, 16, seconds)
        reports, _, report_errors = bench_reports.run("lapor", PORT, 16, seconds)
        queue = queue_p99()
    finally:
        server.terminate()
        server.wait(30)
    hello_rps = statistics.mean(h[0] for h in hello)
    hello_p99 = statistics.mean(h[1] for h in hello)
    return {"hello": hello_rps, "hello_p99": hello_p99, "check": check[0],
            "check_p99": check[1], "hello16": hello16, "reports": reports,
            "errors": hello16_errors + report_errors, "queue_p99": queue}


def postgres_database(base: str) -> tuple[str, str]:
    import psycopg

    name = f"cekbansos_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name)), name


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
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results[backend] = run_backend(backend, f"sqlite:///{tmp}/bench.db",
                                               args.people, args.seconds)
        else:
            import psycopg

            url, name = postgres_database(args.pg_url)
            try:
                results[backend] = run_backend(backend, url, args.people, args.seconds)
            finally:
                with psycopg.connect(args.pg_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
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
