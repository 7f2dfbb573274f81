"""Benchmark: the public NIK check (POST /cek) under gunicorn with 2,000,000 people in the
register, as a ratio to a hello-world route (bench/wsgi_bench.py) served in the same run.

Builds the register once with `flask seed-demo --people N` into --dir (reused afterwards), starts
gunicorn on 127.0.0.1:--port, then runs wrk for --seconds at a time: --rounds rounds of POST
/cek as a full page, POST /cek with `HX-Request: true` (the fragment) and a form POST to the
hello route, with a run of the hello route before the first and after every one of them. Each
run is set against the mean of the two hello runs around it, and the median over the rounds is
the result: a shared machine's speed drifts by 10-20 % within a minute, more than a ratio to
hello runs further away survives.
Each check is sent as a resident's browser sends it: no cookie, no token, with
`Sec-Fetch-Site: same-origin`. The NIKs rotate over a sample of the register (every check status)
plus unknown and invalid NIKs. Goals: check / hello >= 0.70 in requests per second, and the
check's p99 latency <= 1.5x hello's.

Rate limits stay on, in the shared SQLite storage every worker writes (the default set-up), with
an allowance no run can spend: each answer still costs its counter write, as in production.
Requests send `Accept-Encoding: br, gzip` like a phone browser, unless --no-compression.
Beside the ratios, the CPU time gunicorn's processes spent per request (from /proc), each kind
against the hello runs around it.

    .venv/bin/python bench/bench_check.py [--people 2000000] [--seconds 5] [--rounds 4]
        [--workers 3] [--connections 32] [--port 8101] [--dir /tmp/cekbansos-bench]
        [--no-compression] [--limits sqlite|redis|off]
"""
from __future__ import annotations

import argparse
import os
import re
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

import common

LUA = """
local niks = {%(niks)s}
local requests = {}
local i = 0
-- Every request written once, before the run: wrk's per-request Lua work for these POSTs is
-- then a table lookup, no more than its work for the plain GET they are compared with.
init = function(args)
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded",
                   ["Sec-Fetch-Site"] = "same-origin"%(extra)s}
  for k, nik in ipairs(niks) do
    requests[k] = wrk.format("POST", "%(path)s", headers, "nik=" .. nik)
  end
end
request = function()
  i = i + 1
  return requests[(i %% #requests) + 1]
end
"""

def check_script(folder: str, niks: list[str], fragment: bool, target: str = "/cek",
                 compression: bool = True) -> str:
    """A wrk Lua script that POSTs /cek (or `target`) with the NIKs in turn (as htmx does, if
    `fragment`), accepting br and gzip like a phone browser if `compression` (wrk's -H headers
    do not reach requests a script writes with headers of its own)."""
    name = ("fragment" if fragment else "page") + target.replace("/", "-")
    path = os.path.join(folder, f"{name}.lua")
    extra = ',\n ["HX-Request"] = "true"' if fragment else ""
    if compression:
        extra += f',\n ["Accept-Encoding"] = "{common.ACCEPT_ENCODING}"'
    Path(path).write_text(LUA % {
        "niks": ", ".join(f'"{n}"' for n in niks), "path": target, "extra": extra})
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
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=4)
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
        with common.Gunicorn(args.port, env, args.workers) as server:
            browser = common.Browser(args.port)
            verify(browser, niks[0], fragment=False)
            verify(browser, niks[0], fragment=True)
            page_script = check_script(tmp, niks, False, compression=compression)
            fragment_script = check_script(tmp, niks, True, compression=compression)
            post_script = check_script(tmp, niks, False, "/bench/halo", compression)
            runs = measure(args, server, page_script, fragment_script, post_script,
                           compression)
    report(args, compression, runs)


KINDS = ("page", "fragment", "post")


def measure(args, server: common.Gunicorn, page_script: str, fragment_script: str,
            post_script: str, compression: bool) -> list[tuple[str, tuple[float, ...]]]:
    """--rounds rounds of page, fragment and form-POST hello, each run between two runs of the
    hello route: [("hello", (req/s, p99, server CPU ms per request)), ("page", ...), ...]."""
    def run(path, script=None):
        cpu = server.cpu_seconds()
        rps, p99 = common.wrk(args.port, path, args.seconds, connections=args.connections,
                              script=script, compression=compression)
        return rps, p99, (server.cpu_seconds() - cpu) * 1000 / (rps * args.seconds)

    targets = {"page": ("/cek", page_script), "fragment": ("/cek", fragment_script),
               "post": ("/bench/halo", post_script)}
    run("/bench/halo")  # warm-up: workers connected, templates compiled
    run("/cek", page_script)
    runs = [("hello", run("/bench/halo"))]
    for _ in range(args.rounds):
        for kind in KINDS:
            runs += [(kind, run(*targets[kind])), ("hello", run("/bench/halo"))]
    return runs


def report(args, compression: bool, runs: list[tuple[str, tuple[float, ...]]]) -> None:
    """Each run against the mean of the hello runs just before and after it; medians. Beside
    the goal's ratios, the server's CPU time per request (gunicorn's processes, from /proc): a
    steadier measure of what a check costs than throughput on a machine whose speed drifts."""
    ratios = {name: [] for name in KINDS}
    p99s = {name: [] for name in KINDS}
    cpus = {name: [] for name in KINDS}
    measured = {name: [] for name in KINDS}
    for (_, before), (kind, (rps, p99, cpu)), (_, after) in zip(
            runs[::2], runs[1::2], runs[2::2], strict=False):
        ratios[kind].append(rps / ((before[0] + after[0]) / 2))
        p99s[kind].append(p99 / ((before[1] + after[1]) / 2))
        cpus[kind].append(cpu / ((before[2] + after[2]) / 2))
        measured[kind].append(rps)
    hellos = [result[0] for kind, result in runs if kind == "hello"]
    print(f"\n{args.people:,} people, gunicorn {args.workers} sync workers, wrk "
          f"{args.connections} connections, {args.rounds} rounds of {args.seconds} s runs, "
          f"{'br/gzip accepted' if compression else 'no compression'}:")
    print("  hello-world req/s per run: " + ", ".join(f"{rps:.0f}" for rps in hellos))
    for name, label in (("page", "POST /cek page    "), ("fragment", "POST /cek fragment")):
        rps = ", ".join(f"{x:.0f}" for x in measured[name])
        print(f"  {label}  ratio {statistics.median(ratios[name]):.2f}x (goal >= 0.70x; runs "
              + ", ".join(f"{x:.2f}" for x in ratios[name]) + f"; req/s {rps})")
        print(f"  {' ' * 18}  p99 {statistics.median(p99s[name]):.2f}x hello's (goal <= 1.5x; "
              "runs " + ", ".join(f"{x:.2f}" for x in p99s[name]) + ")")
    hello_cpu = statistics.median(result[2] for kind, result in runs if kind == "hello")
    print(f"  server CPU per request: hello {hello_cpu:.3f} ms; "
          + ", ".join(f"{name} {statistics.median(cpus[name]):.2f}x hello's" for name in KINDS))
    # For reading the numbers: what a form POST costs the server before any view work.
    post = statistics.median(ratios["post"])
    print(f"  POST hello (form)   ratio {post:.2f}x; the check's page "
          f"{statistics.median(ratios['page']) / post:.2f}x and fragment "
          f"{statistics.median(ratios['fragment']) / post:.2f}x of it")


if __name__ == "__main__":
    main()
