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
import http.client
import http.cookiejar
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
SECRET = "bench-admin-import"
PASSWORD = "bench-sandi-123"


def flask(env, *args, stdin: str | None = None) -> None:
    done = subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def fresh_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    side = Path(str(path).removesuffix(".db") + "-impor.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{side}{suffix}").unlink(missing_ok=True)


class Database:
    """A fresh, migrated database per run: SQLite files, or PostgreSQL databases."""

    def __init__(self, work: Path, pg_url: str | None):
        self.work, self.pg_url, self.made = work, pg_url, []

    def fresh(self, name: str) -> str:
        if self.pg_url is None:
            path = self.work / f"{name}.db"
            fresh_sqlite(path)
            self.made.append(path)
            return f"sqlite:///{path}"
        import psycopg

        parts = urllib.parse.urlsplit(self.pg_url)
        dbname = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        self.made.append(dbname)
        return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))

    def drop_all(self) -> None:
        if self.pg_url is None:
            for path in self.made:
                fresh_sqlite(path)
            return
        import psycopg

        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            for dbname in self.made:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def prepare(url: str) -> dict:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=SECRET, RATELIMIT_ENABLED="false",
               RATELIMIT_STORAGE_URI="memory://")
    flask(env, "init-db")
    return env


def command_import(env: dict, csv_path: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([str(BIN / "flask"), "--app", "app", "import-data", str(csv_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"import-data failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def make_admin(env: dict) -> str:
    """An admin with a known TOTP secret, written straight into the database."""
    script = (
        "import accounts, models, pyotp\n"
        "from app import create_app\n"
        "app = create_app()\n"
        "with app.app_context(), models.db.connection_context():\n"
        "    secret = accounts.new_secret()\n"
        "    user = models.User(username='bench-admin', role='admin')\n"
        f"    user.set_password({PASSWORD!r})\n"
        "    user.totp_rahasia = accounts.seal(secret)\n"
        "    user.save()\n"
        "    print(secret)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


class Browser:
    """Just enough of a browser: cookies, CSRF tokens, forms; uploads streamed from disk."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def get(self, path: str, headers=None):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        with self.opener.open(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode()

    def post(self, path: str, data: dict):
        body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers)

    def token(self, path: str) -> str:
        html = self.get(path)[2]
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    def sign_in(self, totp_secret: str) -> None:
        import pyotp

        token = self.token("/masuk")
        status, headers = self.post("/masuk", {"username": "bench-admin", "password": PASSWORD,
                                               "csrf_token": token})
        assert headers.get("Location", "").endswith("/masuk/kode"), (status, headers)
        status, headers = self.post("/masuk/kode", {"kode": pyotp.TOTP(totp_secret).now(),
                                                    "csrf_token": token})
        assert status == 303, (status, headers)

    def upload(self, path: str, csv_path: Path) -> str:
        """POST multipart/form-data with the file streamed in 1 MB chunks; returns Location."""
        token = self.token(path)
        boundary = uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
                f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; "
                f"filename=\"{csv_path.name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        size = len(head) + csv_path.stat().st_size + len(tail)
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        host = urllib.parse.urlsplit(self.base)
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=600)
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(size))
        conn.putheader("Cookie", cookies)
        conn.endheaders()
        conn.send(head)
        with open(csv_path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                conn.send(chunk)
        conn.send(tail)
        response = conn.getresponse()
        response.read()
        assert response.status == 303, f"upload answered {response.status}"
        return response.getheader("Location")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def rss_mb(pids) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def pids_matching(word: bytes) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if word in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def browser_import(env: dict, csv_path: Path, port: int, work: Path) -> tuple[float, dict]:
    secret = make_admin(env)
    server_env = dict(env, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2")
    log = open(work / "gunicorn.log", "ab")
    server = subprocess.Popen([str(BIN / "gunicorn"), "--config", "gunicorn.conf.py",
                               "--max-requests", "0", "wsgi:app"], cwd=ROOT, env=server_env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    peaks = {"web_mb": 0.0, "import_mb": 0.0}
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        for _ in range(100):
            try:
                browser.get("/sehat")
                break
            except OSError:
                time.sleep(0.1)
        browser.sign_in(secret)
        workers = [p for p in pids_matching(b"wsgi:app") if p != server.pid]
        peaks["web_before_mb"] = rss_mb(workers)
        start = time.perf_counter()
        location = urllib.parse.urlsplit(browser.upload("/admin/impor", csv_path)).path
        uploaded = time.perf_counter() - start
        while True:
            peaks["web_mb"] = max(peaks["web_mb"], rss_mb(workers))
            peaks["import_mb"] = max(peaks["import_mb"], rss_mb(pids_matching(b"run-import-job")))
            status, headers, body = browser.get(location, {"HX-Request": "true"})
            if headers.get("HX-Refresh") == "true":
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - start
        page = browser.get(location)[2]
        if "Selesai, data tersimpan" not in page:
            sys.exit("the browser import did not finish as `selesai`:\n"
                     + re.sub(r"<[^>]+>", " ", page)[-1500:])
        peaks["upload_s"] = uploaded
        return elapsed, peaks
    finally:
        os.killpg(server.pid, 15)
        server.wait(20)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--big", action="store_true", help="2,000,000 rows")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/cekbansos-bench")
    parser.add_argument("--port", type=int, default=8602, help="8601-8609")
    parser.add_argument("--pg-url", help="PostgreSQL server for throw-away databases")
    args = parser.parse_args()
    rows = 2_000_000 if args.big else args.rows
    work = Path(args.dir)
    work.mkdir(parents=True, exist_ok=True)
    csv_path = work / f"register-{rows}.csv"
    if not csv_path.exists():
        import demo

        print(f"writing {csv_path} ...", flush=True)
        demo.write_csv(csv_path, rows, seed=1)
    databases = Database(work, args.pg_url)
    results: dict[str, list[float]] = {"command": [], "browser": []}
    try:
        for round_no in range(1, args.rounds + 1):
            env = prepare(databases.fresh("admin-cli"))
            results["command"].append(command_import(env, csv_path))
            env = prepare(databases.fresh("admin-web"))
            env["IMPORT_DIR"] = str(work / "impor")
            elapsed, peaks = browser_import(env, csv_path, args.port, work)
            results["browser"].append(elapsed)
            print(f"round {round_no}: import-data {results['command'][-1]:.2f} s, browser "
                  f"{elapsed:.2f} s (upload {peaks['upload_s']:.2f} s); memory: web workers "
                  f"{peaks['web_before_mb']:.0f} MB before, {peaks['web_mb']:.0f} MB at most; "
                  f"import process {peaks['import_mb']:.0f} MB at most",
                  flush=True)
    finally:
        databases.drop_all()
        shutil.rmtree(work / "impor", ignore_errors=True)
    command, browser = (statistics.median(results[k]) for k in ("command", "browser"))
    backend = "PostgreSQL" if args.pg_url else "SQLite"
    print(f"\n{rows:,} rows on {backend}, median of {args.rounds} rounds:")
    print(f"  flask import-data        {command:7.2f} s  {rows / command:10,.0f} rows/s")
    print(f"  browser /admin/impor     {browser:7.2f} s  {rows / browser:10,.0f} rows/s")
    print(f"  ratio (browser / command, rows per second): {command / browser:.2f}  "
          "(goal >= 0.9)")


if __name__ == "__main__":
    main()
