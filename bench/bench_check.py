"""Benchmark: the public NIK check (POST /cek) under gunicorn with 2,000,000 people in the
register, as a ratio to a hello-world route (bench/wsgi_bench.py) served in the same run.

Builds the register once with `flask seed-demo --people N` into --dir (reused afterwards), starts
gunicorn on 127.0.0.1:--port, then runs wrk for --seconds each against: the hello route,
POST /cek as a full page, POST /cek with `HX-Request: true` (the fragment), and the hello route
again. Each check is sent as a resident's browser sends it: no cookie, no token, with
`Sec-Fetch-Site: same-origin`. The NIKs rotate over a sample of the register (every check status)
plus unknown and invalid NIKs. Goals: check / hello >= 0.70 in requests per second, and the
check's p99 latency <= 1.5x hello's.

Rate limits stay on, in the shared SQLite storage every worker writes (the default set-up), with
an allowance no run can spend: each answer still costs its counter write, as in production.
Requests send `Accept-Encoding: br, gzip` like a phone browser, unless --no-compression.

    .venv/bin/python bench/bench_check.py [--people 2000000] [--seconds 10] [--workers 3]
        [--connections 32] [--port 8101] [--dir /tmp/cekbansos-bench] [--no-compression]
"""
from __future__ import annotations

import argparse
import os
import re
import sqlite3
import sys
import tempfile
from pathlib import Path

import common

LUA = """
local niks = {%(niks)s}
local i = 0
local headers = {["Content-Type"] = "application/x-www-form-urlencoded",
                 ["Sec-Fetch-Site"] = "same-origin"%(extra)s}
request = function()
  i = i + 1
  local body = "nik=" .. niks[(i %% #niks) + 1]
  return wrk.format("POST", "%(path)s", headers, body)
end
"""


def check_script(folder: str, niks: list[str], fragment: bool, target: str = "/cek") -> str:
    """A wrk Lua script that POSTs /cek (or `target`) with the NIKs in turn (as htmx does, if
    `fragment`)."""
    name = ("fragment" if fragment else "page") + target.replace("/", "-")
    path = os.path.join(folder, f"{name}.lua")
    Path(path).write_text(LUA % {
        "niks": ", ".join(f'"{n}"' for n in niks), "path": target,
        "extra": ',\n ["HX-Request"] = "true"' if fragment else ""})
    return path


def ensure_register(db: Path, people: int) -> None:
    if db.exists():
        count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM penduduk").fetchone()[0]
        if count >= people:
            return
        sys.exit(f"{db} holds {count} people, fewer than {people}: delete it first")
    print(f"building the register ({people:,} people) in {db} ...", flush=True)
    env = common.bench_env(f"sqlite:///{db}")
    common.flask(env, "init-db")
    common.flask(env, "seed-demo", "--people", str(people))


def sample_niks(db: Path) -> list[str]:
    """~400 NIKs of the register in every status, plus unknown and invalid ones."""
    conn = sqlite3.connect(db)
    people = [r[0] for r in conn.execute(
        "SELECT nik FROM penduduk WHERE rowid % 5000 = 7 LIMIT 300")]
    enrolled = [r[0] for r in conn.execute(
        "SELECT nik FROM kepesertaan WHERE id % 500 = 3 LIMIT 60")]
    unknown = [n[:12] + "9999" for n in people[:30]]
    invalid = ["351016130580001", "3510161305800001", "1234567890123456", "35101617058000x1"]
    return people + enrolled + unknown + invalid


def verify(browser: common.Browser, nik: str, fragment: bool) -> None:
    """One check by hand, as wrk will send it."""
    headers = {"Sec-Fetch-Site": "same-origin"}
    if fragment:
        headers["HX-Request"] = "true"
    response = browser.post("/cek", {"nik": nik}, headers)
    body = response.text
    if response.status != 200 or 'id="hasil-cek"' not in body:
        sys.exit(f"POST /cek answered {response.status}: {body[:300]}")
    status = re.search(r'data-status="([^"]+)', body).group(1)
    sets = response.headers.get("Set-Cookie")
    print(f"  check ok ({'fragment' if fragment else 'page'}, {len(body)} bytes, {status}"
          f"{', SETS A COOKIE' if sets else ', no cookie'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8101, choices=range(8101, 8110))
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--limits", choices=("sqlite", "redis", "off"), default="sqlite",
                        help="rate-limit storage: the default SQLite file, Redis, or none")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    db = Path(args.dir) / f"check-{args.people}.db"
    ensure_register(db, args.people)
    niks = sample_niks(db)
    compression = not args.no_compression
    with tempfile.TemporaryDirectory() as tmp:
        storage = {"sqlite": f"sqlite:///{tmp}/ratelimit.db", "off": "memory://",
                   "redis": "redis://127.0.0.1:6379/14"}[args.limits]
        env = common.bench_env(
            f"sqlite:///{db}", RATELIMIT_ENABLED="false" if args.limits == "off" else "true",
            RATELIMIT_STORAGE_URI=storage,
            RATELIMIT_CAKUPAN="100000000 per minute", RATELIMIT_KIRIM="100000000 per minute")
        with common.Gunicorn(args.port, env, args.workers):
            browser = common.Browser(args.port)
            verify(browser, niks[0], fragment=False)
            verify(browser, niks[0], fragment=True)
            page_script = check_script(tmp, niks, fragment=False)
            fragment_script = check_script(tmp, niks, fragment=True)
            post_script = check_script(tmp, niks, fragment=False, target="/bench/halo")
            results = measure(args, page_script, fragment_script, post_script, compression)
    report(args, compression, *results)


def measure(args, page_script: str, fragment_script: str, post_script: str,
            compression: bool):
    def run(path, script=None):
        return common.wrk(args.port, path, args.seconds, connections=args.connections,
                          script=script, compression=compression)

    run("/bench/halo")  # warm-up: workers connected, templates compiled
    run("/cek", page_script)
    hello = [run("/bench/halo")]
    page = run("/cek", page_script)
    fragment = run("/cek", fragment_script)
    post = run("/bench/halo", post_script)
    hello.append(run("/bench/halo"))
    return hello, page, fragment, post


def report(args, compression: bool, hello, page, fragment, post) -> None:
    base = sum(rps for rps, _ in hello) / len(hello)
    base_p99 = sum(p99 for _, p99 in hello) / len(hello)
    print(f"\n{args.people:,} people, gunicorn {args.workers} sync workers, wrk "
          f"{args.connections} connections, {args.seconds} s each, "
          f"{'br/gzip accepted' if compression else 'no compression'}:")
    print(f"  hello-world          {base:8.0f} req/s  p99 {base_p99:6.1f} ms  (runs: "
          + ", ".join(f"{rps:.0f}" for rps, _ in hello) + ")")
    for name, (rps, p99) in (("POST /cek page    ", page), ("POST /cek fragment", fragment)):
        print(f"  {name}   {rps:8.0f} req/s  ratio {rps / base:.2f}x (goal >= 0.70x)  "
              f"p99 {p99:6.1f} ms = {p99 / base_p99:.2f}x hello's (goal <= 1.5x)")
    # For reading the numbers: what a form POST costs the server before any view work.
    print(f"  POST hello (form)    {post[0]:8.0f} req/s  ratio {post[0] / base:.2f}x; the check's "
          f"page {page[0] / post[0]:.2f}x and fragment {fragment[0] / post[0]:.2f}x of it")


if __name__ == "__main__":
    main()
