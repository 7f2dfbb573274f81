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
import http.client
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

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


def ensure_register(db: Path, people: int) -> None:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db}", SECRET_KEY="bench")
    if db.exists():
        count = sqlite3.connect(db).execute("SELECT COUNT(*) FROM penduduk").fetchone()[0]
        if count >= people:
            return
        sys.exit(f"{db} holds {count} people, fewer than {people}: delete it first")
    print(f"building the register ({people:,} people) in {db} ...", flush=True)
    for args in (["init-db"], ["seed-demo", "--people", str(people)]):
        subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env,
                       check=True, stdout=subprocess.DEVNULL)


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


def start(port: int, workers: int, db: Path) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db}", SECRET_KEY="bench",
               RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ENABLED="false")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--max-requests", "0", "bench.wsgi_bench:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/bench/halo")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit("gunicorn did not start")


def session(port: int) -> tuple[str, str]:
    """A CSRF token and the session cookie, as a browser holds them after its first check (the
    first response after the home page updates the cookie once; wrk would replay the old one)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/")
    response = conn.getresponse()
    html = response.read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    cookie = response.getheader("Set-Cookie").split(";")[0]
    updated = verify(port, token, cookie, "3510161705800001", fragment=False, quiet=True)
    return token, (updated or cookie)


def verify(port: int, token: str, cookie: str, nik: str, fragment: bool,
           quiet: bool = False) -> str | None:
    """One check by hand; returns the updated session cookie if the response sets one."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    if fragment:
        headers["HX-Request"] = "true"
    conn.request("POST", "/cek", body=f"csrf_token={token}&nik={nik}", headers=headers)
    response = conn.getresponse()
    body = response.read().decode()
    if response.status != 200 or 'id="hasil-cek"' not in body:
        sys.exit(f"POST /cek answered {response.status}: {body[:300]}")
    status = re.search(r'data-status="([^"]+)', body).group(1)
    cookie = response.getheader("Set-Cookie")
    if not quiet:
        print(f"  check ok ({'fragment' if fragment else 'page'}, {len(body)} bytes, {status}"
              f"{', sets a cookie' if cookie else ''})")
    return cookie.split(";")[0] if cookie else None


def wrk(port: int, seconds: int, connections: int, path: str, script: str | None,
        compression: bool) -> float:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if compression:
        command += ["-H", "Accept-Encoding: br, gzip"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit("errors during the run:\n" + out)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


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
    server = start(args.port, args.workers, db)
    compression = not args.no_compression
    try:
        token, cookie = session(args.port)
        verify(args.port, token, cookie, niks[0], fragment=False)
        verify(args.port, token, cookie, niks[0], fragment=True)
        scripts = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name, extra in (("page", ""), ("fragment", ',\n ["HX-Request"] = "true"')):
                scripts[name] = os.path.join(tmp, f"{name}.lua")
                Path(scripts[name]).write_text(LUA % {
                    "niks": ", ".join(f'"{n}"' for n in niks), "cookie": cookie,
                    "token": token, "extra": extra})

            def run(path, script=None):
                return wrk(args.port, args.seconds, args.connections, path, script, compression)

            run("/bench/halo")  # warm-up: workers connected, templates compiled
            run("/cek", scripts["page"])
            hello = [run("/bench/halo")]
            page = run("/cek", scripts["page"])
            fragment = run("/cek", scripts["fragment"])
            hello.append(run("/bench/halo"))
    finally:
        server.terminate()
        server.wait()
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
