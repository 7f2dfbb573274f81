"""Benchmark: the browser import (/admin/impor) as a ratio to `flask import-data`, same file.

The CSV is the demo register (demo.write_csv, seed 1), written once to --dir and reused (the
2,000,000-row file is the one bench_import.py writes). Each round, on databases fresh from
`flask init-db` (not timed):

1. `flask import-data FILE` as a process: rows / seconds of the whole process.
2. The browser path against gunicorn (the project's gunicorn.conf.py, 2 sync workers, on
   127.0.0.1:--port): signed in as an admin (password, then the one-time code), the file is
   POSTed as multipart/form-data exactly as a browser sends it, then the progress fragment is
   polled (HX-Request, every 0.2 s) until it answers HX-Refresh (the job is over). Timed from
   the first byte of the upload to that answer: upload, storage, worker start, import, result
   files.

Also sampled every 0.2 s: the resident memory of the gunicorn workers (the upload must not be
held in memory) and of the import process. Goal: browser rate / command rate >= 0.9.

    .venv/bin/python bench/bench_admin_import.py                    # 200,000 rows, 3 rounds
    .venv/bin/python bench/bench_admin_import.py --big --rounds 1   # 2,000,000 rows
    .venv/bin/python bench/bench_admin_import.py --pg-url postgresql://postgres@127.0.0.1/test
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import common

SECRET = "bench-admin-import"


def prepare(url: str, **extra: str) -> dict:
    """A database fresh from `flask init-db` (not timed); returns the environment to use it."""
    env = common.bench_env(url, SECRET, **extra)
    common.flask(env, "init-db")
    return env


def upload(browser: common.Browser, path: str, csv_path: Path) -> str:
    """POST multipart/form-data as a browser sends it, the file streamed from disk in 1 MB
    chunks; returns the Location answered."""
    token = browser.token(path)
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; "
            f"filename=\"{csv_path.name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    conn = browser.conn
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + csv_path.stat().st_size + len(tail)))
    conn.putheader("Cookie", browser.cookie_header())
    conn.endheaders()
    conn.send(head)
    with open(csv_path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            conn.send(chunk)
    conn.send(tail)
    response = conn.getresponse()
    response.read()
    browser.keep_cookies(response.headers.get_all("Set-Cookie") or [])
    if response.status != 303:
        sys.exit(f"upload answered {response.status}")
    return response.getheader("Location")


def is_import(proc: Path) -> bool:
    """The process of an import started from the browser (`flask run-import-job`)."""
    return b"run-import-job" in (proc / "cmdline").read_bytes()


def browser_import(env: dict, csv_path: Path, port: int, work: Path) -> tuple[float, dict]:
    secret = common.create_admin(env)
    peaks = {"web_mb": 0.0, "import_mb": 0.0}
    with common.Gunicorn(port, env, workers=2, log=work / "gunicorn.log") as server:
        browser = common.Browser(port, timeout=600)
        browser.sign_in(totp_secret=secret)
        workers = server.worker_pids()
        peaks["web_before_mb"] = common.rss_mb(workers)
        start = time.perf_counter()
        location = urllib.parse.urlsplit(upload(browser, "/admin/impor", csv_path)).path
        uploaded = time.perf_counter() - start
        while True:
            peaks["web_mb"] = max(peaks["web_mb"], common.rss_mb(workers))
            peaks["import_mb"] = max(peaks["import_mb"], common.rss_mb(common.pids_where(
                is_import)))
            response = browser.get(location, {"HX-Request": "true"})
            if response.headers.get("HX-Refresh") == "true":
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
        page = browser.get(location).text
    if "Selesai, data tersimpan" not in page:
        sys.exit("the browser import did not finish as `selesai`:\n"
                 + re.sub(r"<[^>]+>", " ", page)[-1500:])
    peaks["upload_s"] = uploaded
    return elapsed, peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--big", action="store_true", help="2,000,000 rows")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--port", type=int, default=8602, choices=range(8601, 8610))
    parser.add_argument("--pg-url", help="PostgreSQL server for throw-away databases")
    args = parser.parse_args()
    rows = 2_000_000 if args.big else args.rows
    work = Path(args.dir)
    csv_path = common.register_csv(work, rows)
    results: dict[str, list[float]] = {"command": [], "browser": []}
    with common.Databases(work, args.pg_url) as databases:
        try:
            for round_no in range(1, args.rounds + 1):
                env = prepare(databases.fresh("admin-cli"))
                results["command"].append(
                    common.flask(env, "import-data", str(csv_path)).seconds)
                env = prepare(databases.fresh("admin-web"), IMPORT_DIR=str(work / "impor"))
                elapsed, peaks = browser_import(env, csv_path, args.port, work)
                results["browser"].append(elapsed)
                print(f"round {round_no}: import-data {results['command'][-1]:.2f} s, browser "
                      f"{elapsed:.2f} s (upload {peaks['upload_s']:.2f} s); memory: web "
                      f"workers {peaks['web_before_mb']:.0f} MB before, {peaks['web_mb']:.0f} "
                      f"MB at most; import process {peaks['import_mb']:.0f} MB at most",
                      flush=True)
        finally:
            shutil.rmtree(work / "impor", ignore_errors=True)
    command, browser = (statistics.median(results[k]) for k in ("command", "browser"))
    print(f"\n{rows:,} rows on {databases.backend}, median of {args.rounds} rounds:")
    print(f"  flask import-data        {command:7.2f} s  {rows / command:10,.0f} rows/s")
    print(f"  browser /admin/impor     {browser:7.2f} s  {rows / browser:10,.0f} rows/s")
    print(f"  ratio (browser / command, rows per second): {command / browser:.2f}  "
          "(goal >= 0.9)")


if __name__ == "__main__":
    main()
