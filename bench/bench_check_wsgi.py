"""Benchmark: what the NIK check costs the app itself, without gunicorn or the network.

Calls bench/wsgi_bench.py's app as raw WSGI in this process: GET of the hello route, a form
POST to it, POST /cek as a full page and as the htmx fragment, each request built as gunicorn
builds it and sent as a resident's browser sends it (no cookie, `Sec-Fetch-Site: same-origin`,
`Accept-Encoding: br, gzip`). The kinds alternate in small batches, --batches times, and the
fastest batch of each kind is reported (µs per request): on a shared machine the fastest is the
steadiest measure of the code, while bench_check.py measures the whole server. Rate limits on,
in a throw-away SQLite storage; the register of bench_check.py (built there first).

With --cold, every request starts with the core's own caches emptied (a 32 MB buffer written, one
byte per cache line, before it, not timed: many times a core's L2, so L1 and L2 hold none of the
app, and 32 MB of the shared L3 rewritten) and each batch reports its median request:
what a request costs a gunicorn worker that three other processes shared the two cores with
since its last one, where the fastest batch of a hot loop is what the code costs at best.

    .venv/bin/python bench/bench_check_wsgi.py [--people 2000000] [--batches 40] [--size 200]
        [--cold]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common  # the project on sys.path
from bench_check import sample_niks

KINDS = ("hello", "post", "page", "fragment")


def environ(method: str, path: str, body: bytes = b"", **headers: str) -> dict:
    """A request as gunicorn hands it to the app."""
    env = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
           "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8101", "SERVER_PROTOCOL": "HTTP/1.1",
           "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
           "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
           "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8101",
           "HTTP_ACCEPT_ENCODING": common.ACCEPT_ENCODING}
    if body:
        env.update(CONTENT_TYPE="application/x-www-form-urlencoded",
                   CONTENT_LENGTH=str(len(body)), HTTP_SEC_FETCH_SITE="same-origin")
    env.update(headers)
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--cold", action="store_true",
                        help="empty the core's caches before every request; medians")
    args = parser.parse_args()
    db = Path(args.dir) / f"check-{args.people}.db"
    if not db.exists():
        sys.exit(f"{db} is missing: run bench/bench_check.py --people {args.people} first")
    niks = [nik.encode() for nik in sample_niks(db)]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(DATABASE_URL=f"sqlite:///{db}", SECRET_KEY="bench",
                          RATELIMIT_ENABLED="true", RATELIMIT_STORAGE_URI=f"sqlite:///{tmp}/rl.db",
                          RATELIMIT_CAKUPAN="100000000 per minute",
                          RATELIMIT_KIRIM="100000000 per minute")
        from wsgi_bench import app

        def request(kind: str, n: int) -> dict:
            body = b"nik=" + niks[n % len(niks)]
            if kind == "hello":
                return environ("GET", "/bench/halo")
            if kind == "post":
                return environ("POST", "/bench/halo", body)
            extra = {"HTTP_HX_REQUEST": "true"} if kind == "fragment" else {}
            return environ("POST", "/cek", body, **extra)

        def started(status, headers, exc_info=None):
            if not status.startswith("200"):
                sys.exit(f"answered {status}")

        def batch(kind: str) -> float:
            requests = [request(kind, n) for n in range(args.size)]
            if args.cold:
                return statistics.median(cold(env) for env in requests) * 1e6
            began = time.perf_counter()
            for env in requests:
                answer = app(env, started)
                b"".join(answer)
                answer.close()
            return (time.perf_counter() - began) / args.size * 1e6

        evict = bytearray(32 << 20) if args.cold else None  # many times a core's L2
        stamp = bytes(len(evict) // 64) if args.cold else None

        def cold(env: dict) -> float:
            evict[::64] = stamp  # one write per 64-byte cache line
            began = time.perf_counter()
            answer = app(env, started)
            b"".join(answer)
            answer.close()
            return time.perf_counter() - began

        for kind in KINDS:  # warm-up: templates compiled, connections open, shells kept
            batch(kind)
        times = {kind: [] for kind in KINDS}
        for _ in range(args.batches):
            for kind in KINDS:
                times[kind].append(batch(kind))
    if args.cold:  # the median batch of medians: a cold request is no steadier than its batch
        best = {kind: statistics.median(values) for kind, values in times.items()}
        print(f"\n{args.people:,} people, core caches emptied before every request, median of "
              f"{args.batches} batches' median request of {args.size} (µs, in this process):")
    else:
        best = {kind: min(values) for kind, values in times.items()}
        print(f"\n{args.people:,} people, fastest of {args.batches} batches of {args.size} "
              "requests (µs per request, in this process):")
    for kind in KINDS:
        print(f"  {kind:9s} {best[kind]:7.1f} µs   {best['hello'] / best[kind]:.2f}x of hello's "
              "rate")


if __name__ == "__main__":
    main()
