"""A live Cek Bansos for browser tests and the browser benchmark: a seeded SQLite register served
by gunicorn on 127.0.0.1 behind nginx (deploy/nginx.conf.example, nginx_support.py), as in
production, Debian's Chromium launch flags, and the 2G network profile.

Used by tests/browser/conftest.py and bench/bench_browser.py; no pytest imports here.
"""
from __future__ import annotations

import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import nginx_support

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as packaged: no sandbox inside a container, nothing fetched in the background
# (so the no-third-party-request check sees only what the page asks for).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
PORTS = range(8501, 8510)
PASSWORD = "rahasia-e2e-123"
PETUGAS, VERIFIKATOR = "petugas-e2e", "verifikator-e2e"
OFFICE = "35.10.16.1001"  # Kelurahan Pakis, Kecamatan Banyuwangi
# A 2G-class connection (DevTools Network.emulateNetworkConditions; throughput in bytes/s).
SLOW_2G = {"offline": False, "latency": 300,
           "downloadThroughput": 250_000 / 8, "uploadThroughput": 50_000 / 8}


@dataclass
class Person:
    nik: str
    nama: str
    no_kk: str | None
    desa: str  # desa/kelurahan code, e.g. 35.10.16.1001
    kecamatan: str  # its kecamatan code, e.g. 35.10.16


@dataclass
class LiveServer:
    url: str  # nginx's address (gunicorn's own when started without nginx)
    db_path: Path
    log_path: Path
    process: subprocess.Popen  # gunicorn
    app_url: str = ""  # gunicorn's own address, behind nginx
    nginx: nginx_support.Nginx | None = None
    covered: list[str] = field(default_factory=list)  # terdaftar
    family_covered: list[str] = field(default_factory=list)  # keluarga-terdaftar
    uncovered: list[Person] = field(default_factory=list)  # belum-terdaftar, never reported

    def take_uncovered(self) -> Person:
        """A resident nobody covers and nobody has reported yet: each report opens a new case."""
        return self.uncovered.pop()

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port(ports: range = PORTS) -> int:
    """The first port of `ports` nothing listens on. Probed with SO_REUSEADDR, as gunicorn and
    nginx bind: the closed connections a previous run left in TIME_WAIT do not take a port."""
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


def _env(db_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("BIND", "WEB_CONCURRENCY", "DATABASE_REPLICA_URL", "PROXY_FIX")}
    # Rate limits off: every simulated resident comes from 127.0.0.1, and a suite run checks
    # and reports more often than one address may (tests/test_security.py covers the limits).
    env.update(DATABASE_URL=f"sqlite:///{db_path}", SECRET_KEY=secrets.token_hex(16),
               RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ENABLED="false")
    return env


def _flask(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, input=stdin,
                   text=True, check=True, stdout=subprocess.DEVNULL)


def seed(db_path: Path, env: dict, people: int = 2000) -> None:
    """Schema, regions and schemes, a synthetic register, and two staff accounts we know."""
    _flask(env, "init-db")
    _flask(env, "seed-demo", "--people", str(people), "--seed", "1")
    _flask(env, "create-user", PETUGAS, "--role", "petugas", "--kantor", OFFICE,
           stdin=f"{PASSWORD}\n{PASSWORD}\n")
    _flask(env, "create-user", VERIFIKATOR, "--role", "verifikator",
           stdin=f"{PASSWORD}\n{PASSWORD}\n")


def _samples(db_path: Path) -> dict:
    conn = sqlite3.connect(db_path)
    try:
        own = "SELECT 1 FROM kepesertaan e WHERE e.nik = p.nik AND e.berakhir IS NULL"
        family = ("SELECT 1 FROM kepesertaan e WHERE e.family_kk = p.no_kk "
                  "AND e.berakhir IS NULL")
        covered = [r[0] for r in conn.execute(
            f"SELECT p.nik FROM penduduk p WHERE EXISTS ({own}) ORDER BY p.nik LIMIT 10")]
        family_covered = [r[0] for r in conn.execute(
            f"SELECT p.nik FROM penduduk p WHERE NOT EXISTS ({own}) AND EXISTS ({family}) "
            "ORDER BY p.nik LIMIT 10")]
        uncovered = [Person(*row) for row in conn.execute(
            f"SELECT p.nik, p.nama, p.no_kk, p.desa_kode, w.kecamatan_kode FROM penduduk p "
            f"JOIN wilayah w ON w.kode = p.desa_kode "
            f"WHERE NOT EXISTS ({own}) AND NOT EXISTS ({family}) "
            "AND NOT EXISTS (SELECT 1 FROM laporan l WHERE l.nik = p.nik) "
            "ORDER BY p.nik LIMIT 200")]
    finally:
        conn.close()
    return {"covered": covered, "family_covered": family_covered, "uncovered": uncovered}


def start(workdir: Path, people: int = 2000, workers: int = 2, nginx: bool = True,
          ports: range = PORTS) -> LiveServer:
    """Seed a fresh database in `workdir` and serve it with gunicorn (`workers` sync workers)
    behind nginx, both on ports of `ports`; call .stop() after. Raises
    nginx_support.NginxUnavailable, before any work, when nginx is wanted but not installed."""
    if nginx and nginx_support.missing():
        raise nginx_support.NginxUnavailable(nginx_support.missing())
    workdir.mkdir(parents=True, exist_ok=True)
    db_path, log_path = workdir / "e2e.db", workdir / "gunicorn.log"
    env = _env(db_path)
    if nginx:
        env["PROXY_FIX"] = "1"  # trust nginx's X-Forwarded-* (one hop), as in production
    seed(db_path, env, people)
    samples = _samples(db_path)
    port = free_port(ports)
    url = f"http://127.0.0.1:{port}"
    log = open(log_path, "w")  # noqa: SIM115 - stays open for the server's lifetime
    # A control socket of its own: gunicorn 27 otherwise shares ~/.gunicorn/gunicorn.ctl (or
    # the one gunicorn.conf.py names) with every other instance.
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--max-requests", "0", "--control-socket", str(workdir / "gunicorn.ctl"), "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LiveServer(url, db_path, log_path, process, app_url=url, **samples)
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n"
                               + log_path.read_text()[-3000:])
        try:
            with urllib.request.urlopen(url + "/sehat", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("gunicorn did not answer /sehat within 30 s:\n"
                               + log_path.read_text()[-3000:])
        time.sleep(0.2)
    if nginx:
        try:
            server.nginx = nginx_support.start(workdir / "nginx", free_port(ports),
                                               upstream=f"127.0.0.1:{port}")
        except BaseException:
            server.stop()
            raise
        server.url = server.nginx.url
    return server


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def throttle(context, page) -> None:
    """Put one page behind the 2G profile (Chromium's DevTools network emulation)."""
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_2G)
    return cdp


def check_nik(page, nik: str, *, js: bool) -> str:
    """Type a NIK on the home page and press Cek; returns the new result's data-status."""
    page.fill("#nik", nik)
    if js:
        # htmx replaces #hasil-cek (outerHTML): wait until the old element has left the page.
        # (Pressed before htmx has loaded, on a slow line, the form posts as a plain page.)
        previous = page.query_selector("#hasil-cek")
        with page.expect_response(lambda r: r.url.endswith("/cek")) as answer:
            page.click("form.cek button")
        if answer.value.request.is_navigation_request():
            page.wait_for_url("**/cek", wait_until="commit")
        else:
            page.wait_for_function("old => !old.isConnected", arg=previous)
    else:
        with page.expect_navigation(wait_until="commit"):
            page.click("form.cek button")
    # Visible as soon as it is parsed: a check result needs no script (htmx loads deferred).
    result = page.locator("#hasil-cek[data-status]")
    result.wait_for()
    return result.get_attribute("data-status")


def fill_report(page, person, *, js: bool, reporter: str = "Sri Rahayu") -> None:
    """Fill the report form about `person` as a neighbour would (NIK already prefilled)."""
    page.check("#hubungan-lain")
    page.fill("#pelapor_nama", reporter)
    page.fill("#pelapor_telepon", "0812 3456 7890")
    if not page.input_value("#nik"):
        page.fill("#nik", person.nik)
    page.fill("#nama", person.nama.title())
    page.fill("#no_kk", person.no_kk or "")
    page.fill("#alamat", "Jl. Melati 3 RT 002 RW 001")
    if js:
        # A person takes longer over the fields above than htmx takes to load, even on 2G.
        page.wait_for_function("() => window.htmx !== undefined")
    page.select_option("#kecamatan", person.kecamatan)
    if js:
        # htmx narrows the desa list in place (GET /lapor/desa, a fragment).
        page.locator(f'#kode_desa option[value="{person.desa}"]').wait_for(state="attached")
    else:
        # Without JavaScript, "Tampilkan desa" posts the form back with the villages narrowed,
        # keeping everything typed so far.
        page.click("button[name=aksi][value=desa]")
        page.wait_for_load_state()
        assert page.input_value("#pelapor_nama") == reporter
    page.select_option("#kode_desa", person.desa)
    page.select_option("#kategori", "kehilangan-penghasilan")
    page.fill("#keterangan", "Di-PHK sejak pandemi, belum ada pemasukan.")


def submit_report(page) -> tuple[str, str]:
    """Press "Kirim laporan"; returns the confirmation's tracking code and data-status."""
    with page.expect_navigation(url=re.compile(r"/laporan/[A-Z0-9]{8}\?hasil=[a-z]+$")):
        page.click("text=Kirim laporan")
    kode = page.inner_text("#kode-laporan").strip()
    return kode, page.get_attribute("#status-laporan", "data-status")


def login(page, username: str) -> None:
    page.goto("/masuk")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.formulir button")
    page.wait_for_url(re.compile(r"/(kios|verifikasi)$"))


def run_axe(page) -> list[dict]:
    """axe-core's violations on the page as it is now (every rule axe runs by default)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(
                n => n.html.slice(0, 200) + ' :: ' + n.failureSummary)}));
    }""")


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
