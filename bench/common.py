"""What the benchmarks share: processes and their timing, throw-away databases, gunicorn, wrk,
and a small browser that signs in (with the one-time code an admin needs).

Imported as `common` by the scripts in bench/ (their folder is first on sys.path when run as
`.venv/bin/python bench/<script>.py`); it puts the project root on sys.path for them.
"""
from __future__ import annotations

import http.client
import os
import re
import resource
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN, ADMIN_PASSWORD = "bench-admin", "bench-sandi-123"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = _CSRF.search(html)
    if found is None:
        sys.exit("no CSRF token on the page:\n" + re.sub(r"<[^>]+>", " ", html)[-800:])
    return found.group(1)


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# --- processes ------------------------------------------------------------------------------

def report_form(nik: str, **changes: str) -> dict:
    """A resident's report about someone left out, as the public form at /lapor sends it (no
    token: the form is origin-checked, web/origin.py)."""
    form = {"hubungan": "orang-lain", "pelapor_nama": "Budi Santoso", "pelapor_nik": "",
            "pelapor_telepon": "0812 3456 7890", "nik": nik, "nama": "SITI WAHYUNI",
            "no_kk": "", "alamat": "Jl. Mawar 1 RT 001 RW 002", "kecamatan": "",
            "kode_desa": "35.10.16.1001", "kategori": "lansia-sebatang-kara",
            "keterangan": "Tinggal sendiri sejak 2019."}
    form.update(changes)
    return form


def bench_env(url: str, secret: str = "bench", **extra: str) -> dict:
    """The environment of every process a benchmark starts: its database, and rate limiting off
    (from one address a load test would only measure 429s; limiter storage in memory)."""
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=secret, RATELIMIT_ENABLED="false",
               RATELIMIT_STORAGE_URI="memory://")
    env.update(extra)
    return env


def flask_command(*args: str) -> list[str]:
    return [str(BIN / "flask"), "--app", "app", *args]


@dataclass
class Finished:
    seconds: float  # wall clock
    cpu: float  # user + system CPU of the process and its children (least disturbed by load)
    out: str  # its standard output

    @property
    def last_line(self) -> str:
        lines = self.out.strip().splitlines()
        return lines[-1] if lines else ""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict | None = None, stdin: str | None = None) -> Finished:
    """A whole process, timed, in the project root; on failure the run ends with its output."""
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, cwd=ROOT, env=env, input=stdin, capture_output=True,
                          text=True)
    finished = Finished(time.perf_counter() - start, _children_cpu() - cpu, done.stdout)
    if done.returncode != 0:
        sys.exit(f"failed: {shlex.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return finished


def flask(env: dict, *args: str, stdin: str | None = None) -> Finished:
    """A `flask --app app ...` command against env's database."""
    return run(flask_command(*args), env, stdin)


# --- databases ------------------------------------------------------------------------------

def fresh_sqlite(path: Path) -> None:
    """Remove a SQLite database with its WAL files and its import-jobs side database."""
    side = Path(str(path).removesuffix(".db") + "-impor.db")
    for base in (path, side):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base}{suffix}").unlink(missing_ok=True)


class Databases:
    """Throw-away databases: SQLite files in `work`, or with `pg_url` databases created on that
    PostgreSQL server. Every one made is removed (dropped) on leaving the `with` block."""

    def __init__(self, work: Path, pg_url: str | None = None):
        self.work, self.pg_url, self.made = work, pg_url, []

    def __enter__(self) -> Databases:
        return self

    def __exit__(self, *exc) -> None:
        self.drop_all()

    @property
    def backend(self) -> str:
        return "PostgreSQL" if self.pg_url else "SQLite"

    def fresh(self, name: str) -> str:
        """The URL of a new, empty database."""
        if self.pg_url is None:
            path = self.work / f"{name}.db"
            fresh_sqlite(path)
            self.made.append(path)
            return f"sqlite:///{path}"
        import psycopg

        dbname = f"bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        self.made.append(dbname)
        parts = urllib.parse.urlsplit(self.pg_url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))

    def drop_all(self) -> None:
        if self.pg_url is None:
            for path in self.made:
                fresh_sqlite(path)
        elif self.made:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                for dbname in self.made:
                    conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        self.made = []


def register_csv(work: Path, rows: int) -> Path:
    """The demo register as a recipient list (demo.write_csv, seed 1: families in all 217 desa),
    written once to `work` and reused."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"register-{rows}.csv"
    if not path.exists():
        from imports import demo

        print(f"writing {path} ...", flush=True)
        tally = demo.write_csv(path, rows, seed=1)
        print(f"  {tally.people} people in {tally.families} families", flush=True)
    return path


def close_pool() -> None:
    """Close a pooled database's connections (PostgreSQL) before other processes take over."""
    import models

    if hasattr(models.db.obj, "close_all"):
        models.db.close_all()


# --- accounts -------------------------------------------------------------------------------

def add_admin(username: str = ADMIN, password: str = ADMIN_PASSWORD) -> str:
    """An admin with a known second factor (admins must have one); inside an app context.
    Returns the TOTP secret, to sign in with."""
    import models
    from web import totp

    secret = totp.new_secret()
    user = models.User(username=username, role="admin")
    user.set_password(password)
    user.totp_rahasia = totp.seal(secret)
    user.save()
    return secret


def create_admin(env: dict, username: str = ADMIN, password: str = ADMIN_PASSWORD) -> str:
    """add_admin() in a process of its own, against env's database."""
    script = (f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
              "import common, models\nfrom app import create_app\n"
              "with create_app().app_context(), models.db.connection_context():\n"
              f"    print(common.add_admin({username!r}, {password!r}))\n")
    return run([sys.executable, "-c", script], env).last_line


@dataclass
class Response:
    status: int
    headers: object  # anything with .get(name)
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class Browser:
    """Just enough of a browser: cookies, forms, signing in; one connection, opened again
    whenever the server closes it (sync workers do after each response)."""

    def __init__(self, port: int, timeout: float = 60):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def keep_cookies(self, set_cookies: list[str]) -> None:
        for value in set_cookies:
            name, _, rest = value.split(";", 1)[0].partition("=")
            if "max-age=0" in value.lower().replace(" ", ""):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = rest

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Response:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        try:
            self.conn.request(method, path, body, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnects on the next request
            raise
        self.keep_cookies(response.headers.get_all("Set-Cookie") or [])
        return Response(response.status, response.headers, data)

    def get(self, path: str, headers: dict | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, data: dict, headers: dict | None = None) -> Response:
        return self.request("POST", path, urllib.parse.urlencode(data).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def token(self, path: str) -> str:
        return csrf_token(self.get(path).text)

    def sign_in(self, username: str = ADMIN, password: str = ADMIN_PASSWORD,
                totp_secret: str | None = None) -> str:
        """Password, then the one-time code when given one; returns the form's CSRF token."""
        import pyotp

        token = self.token("/masuk")
        answer = self.post("/masuk", {"username": username, "password": password,
                                      "csrf_token": token})
        location = answer.headers.get("Location") or ""
        if totp_secret is not None:
            if not location.endswith("/masuk/kode"):
                sys.exit(f"sign-in of {username}: expected the code step, got {answer.status} "
                         f"{location}")
            answer = self.post("/masuk/kode", {"kode": pyotp.TOTP(totp_secret).now(),
                                               "csrf_token": token})
            location = answer.headers.get("Location") or ""
        # Signed in: sent on to the role's home page, not back to a step of signing in (or
        # to enrolling a second factor, for an admin without one).
        if answer.status != 303 or "/masuk" in location or "/akun/" in location:
            sys.exit(f"sign-in of {username} failed: {answer.status} {location}")
        return token


class InProcessBrowser(Browser):
    """The same, on a Flask test client: the app without a network."""

    def __init__(self, client):
        self.client = client

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Response:
        response = self.client.open(path, method=method, data=body, headers=headers or {})
        return Response(response.status_code, response.headers, response.data)


# --- gunicorn and wrk -----------------------------------------------------------------------

def control_socket_args(folder: str | Path) -> list[str]:
    """gunicorn 27 keeps a control socket in ~/.gunicorn/ unless told otherwise, one path for
    every instance of the user: each instance a benchmark starts gets its own in `folder`."""
    return ["--control-socket", str(Path(folder) / "gunicorn.ctl")]


class Gunicorn:
    """bench/wsgi_bench.py (the real app plus /bench/halo) under gunicorn on 127.0.0.1:port,
    ready once /bench/halo answers; a context manager that stops it on leaving.

    Deployed settings (gunicorn.conf.py: sync workers) but `workers` of them, no worker restarts
    mid-run (--max-requests 0), the access log discarded, and a control socket of its own. Its
    own process group, so that stopping it also ends any import job its workers started. Output
    goes to `log` (default: a temp file, shown if gunicorn does not start)."""

    def __init__(self, port: int, env: dict, workers: int, log: Path | None = None):
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.folder = tempfile.TemporaryDirectory(prefix="bench-gunicorn-")
        self.log_path = log or Path(self.folder.name) / "gunicorn.log"
        command = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py",
                   "-b", f"127.0.0.1:{port}", "-w", str(workers), "--max-requests", "0",
                   "--access-logfile", "/dev/null", *control_socket_args(self.folder.name),
                   "bench.wsgi_bench:app"]
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/bench/halo")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit(f"gunicorn did not start on port {self.port}:\n"
                 + self.log_path.read_text(errors="replace")[-3000:])

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the master and its workers have used so far."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # a process that ended meanwhile
            if int(fields[2]) == self.process.pid:  # its process group: gunicorn's own
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.folder.cleanup()

    def worker_pids(self) -> list[int]:
        """The arbiter's children: its workers."""
        return pids_where(lambda proc: parent_pid(proc) == self.process.pid)


def parent_pid(proc: Path) -> int:
    """The parent of the process at /proc/<pid> (after its name in `stat`, state, then ppid)."""
    return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])


def pids_where(test) -> list[int]:
    """The processes for which test(/proc/<pid>) is true (one that ends meanwhile is skipped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if test(entry):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def rss_mb(pids: list[int]) -> float:
    """The resident memory of these processes together, in MB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


ACCEPT_ENCODING = "br, gzip"  # what the benchmarks accept, like a phone browser


def wrk(port: int, path: str, seconds: int, *, connections: int = 32,
        script: str | None = None, compression: bool = True) -> tuple[float, float]:
    """wrk against 127.0.0.1:port: (requests per second, p99 latency in ms). Any non-2xx
    answer or socket error ends the run."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if compression:  # like a phone browser
        command += ["-H", f"Accept-Encoding: {ACCEPT_ENCODING}"]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        sys.exit("errors during the run:\n" + out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()
    return rps, float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
