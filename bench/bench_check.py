"""Benchmark: the public NIK check (POST /cek) under gunicorn with 2,000,000 people in the
register, as a ratio to a hello-world route (bench/wsgi_bench.py) served in the same run.

Builds the register once with `flask seed-demo --people N` into --dir (reused afterwards), starts
gunicorn on 127.0.0.1:--port, takes a CSRF token and session cookie from GET /, then runs wrk
for --seconds each against: the hello route, POST /cek as a full page, POST /cek with
`HX-Request: true` (the fragment), and the hello route again. The NIKs rotate over a sample of
the register (every check status) plus unknown and invalid NIKs. Goal: check / hello >= 0.70.

Rate limiting is switched off for the run: from one address a load test would only measure 429s.
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
                 ["Cookie"] = "%(cookie)s"%(extra)s}
request = function()
  i = i + 1
  local body = "csrf_token=%(token)s&nik=" .. niks[(i %% #niks) + 1]
  return wrk.format("POST", "/cek", headers, body)
end
"""


def check_script(folder: str, niks: list[str], token: str, cookie: str, fragment: bool) -> str:
    """A wrk Lua script that POSTs /cek with the NIKs in turn (as htmx does, if `fragment`)."""
    name = "fragment" if fragment else "page"
    path = os.path.join(folder, f"{name}.lua")
    Path(path).write_text(LUA % {
        "niks": ", ".join(f'"{n}"' for n in niks), "cookie": cookie, "token": token,
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


def session(port: int) -> tuple[str, common.Browser]:
    """A CSRF token and a browser with the session cookie as it holds them after its first
    check (the first response after the home page updates the cookie once; wrk would replay the
    old one). wrk sends `browser.cookie_header()`."""
    browser = common.Browser(port)
    token = browser.token("/")
    verify(browser, token, "3510161705800001", fragment=False, quiet=True)
    return token, browser


def verify(browser: common.Browser, token: str, nik: str, fragment: bool,
           quiet: bool = False) -> None:
    """One check by hand, as wrk will send it."""
    response = browser.post("/cek", {"csrf_token": token, "nik": nik},
                            {"HX-Request": "true"} if fragment else None)
    body = response.text
    if response.status != 200 or 'id="hasil-cek"' not in body:
        sys.exit(f"POST /cek answered {response.status}: {body[:300]}")
    status = re.search(r'data-status="([^"]+)', body).group(1)
    if not quiet:
        sets = response.headers.get("Set-Cookie")
        print(f"  check ok ({'fragment' if fragment else 'page'}, {len(body)} bytes, {status}"
              f"{', sets a cookie' if sets else ''})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8101, choices=range(8101, 8110))
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    db = Path(args.dir) / f"check-{args.people}.db"
    ensure_register(db, args.people)
    niks = sample_niks(db)
    compression = not args.no_compression
    env = common.bench_env(f"sqlite:///{db}")
    with common.Gunicorn(args.port, env, args.workers), \
            tempfile.TemporaryDirectory() as tmp:
        token, browser = session(args.port)
        cookie = browser.cookie_header()
        verify(browser, token, niks[0], fragment=False)
        verify(browser, token, niks[0], fragment=True)
        page_script = check_script(tmp, niks, token, cookie, fragment=False)
        fragment_script = check_script(tmp, niks, token, cookie, fragment=True)

        def run(path, script=None):
            return common.wrk(args.port, path, args.seconds, connections=args.connections,
                              script=script, compression=compression)[0]

        run("/bench/halo")  # warm-up: workers connected, templates compiled
        run("/cek", page_script)
        hello = [run("/bench/halo")]
        page = run("/cek", page_script)
        fragment = run("/cek", fragment_script)
        hello.append(run("/bench/halo"))
    base = sum(hello) / len(hello)
    print(f"\n{args.people:,} people, gunicorn {args.workers} sync workers, wrk "
          f"{args.connections} connections, {args.seconds} s each, "
          f"{'br/gzip accepted' if compression else 'no compression'}:")
    print(f"  hello-world          {base:8.0f} req/s  (runs: "
          + ", ".join(f"{h:.0f}" for h in hello) + ")")
    print(f"  POST /cek page       {page:8.0f} req/s  ratio {page / base:.2f}x  (goal >= 0.70x)")
    print(f"  POST /cek fragment   {fragment:8.0f} req/s  ratio {fragment / base:.2f}x")


if __name__ == "__main__":
    main()
