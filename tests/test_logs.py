"""No NIK in any log: gunicorn's access and error logs under real requests."""
from __future__ import annotations

import datetime
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from nik import make_nik
from web.redact import GunicornLogger

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORTS = range(8401, 8410)
NIK = make_nik("351016", datetime.date(1980, 5, 17), False, 4321)
OTHER_NIK = make_nik("351016", datetime.date(1975, 1, 2), True, 77)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def server(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("BIND", "WEB_CONCURRENCY", "DATABASE_REPLICA_URL", "PROXY_FIX")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", SECRET_KEY="log-test",
               RATELIMIT_STORAGE_URI=f"sqlite:///{tmp_path / 'ratelimit.db'}")
    subprocess.run([str(BIN / "flask"), "--app", "app", "init-db"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    port = _free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "-w", "2",
         "-b", f"127.0.0.1:{port}", "--access-logfile", str(access),
         "--error-logfile", str(errors), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/sehat", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base, access, errors
    finally:
        proc.terminate()
        proc.wait(20)


def _request(opener, url, data=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, data=body, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_gunicorn_logs_have_no_query_string_and_no_nik(server):
    base, access, errors = server
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
    status, html = _request(opener, base + "/")
    assert _request(opener, base + "/cek", {"nik": NIK})[0] == 200
    status, _ = _request(opener, base + "/lapor", {
        "hubungan": "orang-lain", "pelapor_nama": "Budi",
        "nik": OTHER_NIK, "nama": "SITI WAHYUNI", "alamat": "Jl. Mawar 1",
        "kode_desa": "35.10.16.1001", "kategori": "lainnya", "keterangan": "x"})
    assert status == 303
    # What a careless link or a probing client might send: NIKs in queries and paths.
    for path in (f"/cek?nik={NIK}", f"/lacak?kode=ABCD-2345&nik={NIK}", f"/{NIK}",
                 f"/laporan/{OTHER_NIK}", f"/verifikasi/{NIK}?x=1"):
        _request(opener, base + path)
    time.sleep(0.5)  # let the workers flush their log lines
    log = access.read_text()
    lines = [line for line in log.splitlines() if line.strip()]
    assert len(lines) >= 8, log
    assert any('"POST /cek"' in line for line in lines)
    assert any('"GET /[NIK]"' in line for line in lines)
    for line in lines:
        assert "?" not in line and "nik=" not in line, line
        assert NIK not in line and OTHER_NIK not in line, line
        assert not re.search(r"\d{16}", line), line
    error_log = errors.read_text()
    assert NIK not in error_log and OTHER_NIK not in error_log


def test_the_logger_class_strips_queries_even_from_a_format_that_asks(tmp_path):
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "a.log"))
    cfg.set("access_log_format", '"%(r)s" %(q)s %(U)s')
    logger = GunicornLogger(cfg)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/x?nik={NIK}", "PATH_INFO": f"/{NIK}",
               "QUERY_STRING": f"nik={NIK}", "SERVER_PROTOCOL": "HTTP/1.1"}

    class Resp:
        status, sent, headers = "200 OK", 10, []

    atoms = logger.atoms(Resp(), {}, environ, datetime.timedelta(seconds=0))
    assert atoms["r"] == "GET /[NIK] HTTP/1.1" and atoms["q"] == "" and atoms["U"] == "/[NIK]"
