"""Operations: health check, proxy headers, shared rate-limit counters, backup and restore,
gunicorn's workers."""
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from limits.storage import storage_from_string

import models
from app import create_app
from cases import casework
from tests.conftest import DESA, add_person, new_nik


def test_health_ok(client):
    response = client.get("/sehat")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "batas_permintaan": "ok",
                                   "disk": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_health_says_when_the_disk_is_nearly_full(client, monkeypatch):
    """A monitor hears of a nearly full disk before writes fail: still 200, not "ok"."""
    import collections
    import shutil

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(2**30, 2**30 - 2**20, 2**20))
    response = client.get("/sehat")
    assert response.status_code == 200
    assert response.get_json() == {"status": "terganggu", "database": "ok",
                                   "batas_permintaan": "ok", "disk": "hampir penuh"}


def test_health_reports_a_dead_database(tmp_path):
    missing = tmp_path / "no-such-dir" / "x.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{missing}",
                      "SECRET_KEY": "t", "RATELIMIT_STORAGE_URI": "memory://"})
    response = app.test_client().get("/sehat")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_proxy_fix_only_when_configured(database_url):
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    for hops, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t",
                          "RATELIMIT_STORAGE_URI": "memory://", "PROXY_FIX": hops})

        @app.get("/_ip")
        def _ip():
            from flask import request
            return request.remote_addr

        assert app.test_client().get("/_ip", headers=headers).get_data(as_text=True) == expected


def test_security_headers_on_every_page(client):
    for path in ("/", "/sehat", "/tidak-ada"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def test_pages_are_compressed(client):
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("Content-Encoding") == "gzip"


def _hammer(uri, n):
    storage = storage_from_string(uri)
    for _ in range(n):
        storage.incr("cek:203.0.113.9", 60)


def test_sqlite_rate_limit_counters_are_shared_between_processes(tmp_path):
    """gunicorn workers are processes: every one must see the same counter."""
    from web import ratelimit  # noqa: F401

    uri = f"sqlite:///{tmp_path / 'rl.db'}"
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_hammer, args=(uri, 200)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
        assert w.exitcode == 0
    assert storage_from_string(uri).get("cek:203.0.113.9") == 800


def test_sqlite_rate_limit_window_expires(tmp_path, monkeypatch):
    from web import ratelimit

    storage = storage_from_string(f"sqlite:///{tmp_path / 'rl.db'}")
    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock[0])
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    clock[0] += 61
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1


def _report(nik):
    subject = {"nik": nik, "nama": "WARGA UJI", "no_kk": None, "alamat": "Jl. Uji",
               "desa": DESA, "kategori": "lainnya", "keterangan": ""}
    return casework.submit_report(subject, {"hubungan": "orang-lain", "nama": "TETANGGA",
                                            "nik": None, "telepon": None})[0]


def test_backup_and_restore_keep_every_report(app, runner, tmp_path):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        result = runner.invoke(args=["backup", str(tmp_path / "b.db")])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    codes = {_report(new_nik()).kode for _ in range(5)}
    add_person()
    target = tmp_path / "cadangan.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "5 laporan" in result.output
    # Losing data after the backup...
    models.Reporter.delete().execute()
    models.ReportEvent.delete().execute()
    models.Report.delete().execute()
    assert models.Report.select().count() == 0
    # ...and restoring it brings every report back.
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert {r.kode for r in models.Report.select()} == codes
    assert models.Person.select().count() == 1


def test_backup_refuses_to_overwrite(app, runner, tmp_path):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite only")
    target = tmp_path / "ada.db"
    target.write_text("x")
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code != 0 and "sudah ada" in result.output


def test_replica_serves_only_read_only_checks(template_db, tmp_path):
    """With DATABASE_REPLICA_URL the public check reads the replica; writes and the rules
    (reports, decisions) keep reading the primary."""
    import shutil

    primary, replica = tmp_path / "primary.db", tmp_path / "replica.db"
    shutil.copy(template_db, primary)
    shutil.copy(template_db, replica)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{primary}",
                      "DATABASE_REPLICA_URL": f"sqlite:///{replica}", "SECRET_KEY": "t",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context(), models.db.connection_context():
        nik = add_person()
        models.enrol(nik, "BST", sumber="test")
        assert models.covering(nik).status == "terdaftar"
        # The replica has not caught up (here: never will), and the check says what it holds.
        assert models.covering(nik, read_only=True).status == "belum-terdaftar"
    models.replica.initialize(None)


def test_gunicorn_workers_keep_start_up_objects_out_of_full_collections():
    """gunicorn.conf.py's post_worker_init, run once a worker has loaded the app, freezes what
    start-up made (a full collection no longer walks it, so no resident's check waits for
    that) and leaves the collector on for what requests make."""
    code = ("import gc, runpy; from app import create_app; create_app(); "
            "runpy.run_path('gunicorn.conf.py')['post_worker_init'](None); "
            "print(gc.get_freeze_count(), gc.isenabled(), len(gc.get_objects()))")
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env=dict(os.environ, SECRET_KEY="test", DATABASE_URL="sqlite://"),
                         check=True, timeout=120).stdout.split()
    frozen, enabled, left = int(out[0]), out[1], int(out[2])
    assert frozen > 10_000 and enabled == "True" and left < frozen // 10


def test_the_virtualenv_is_made_from_the_python_the_readme_names(tmp_path):
    """README, "Which Python": `make install PYTHON=/usr/bin/python3` on a machine without
    `.venv` makes the environment from that interpreter, not from the `python3` on the PATH."""
    root = Path(__file__).resolve().parent.parent
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt", "package.json",
                 "package-lock.json"):
        (tmp_path / name).write_bytes((root / name).read_bytes())
    # Run as its own make, not as a sub-make of `make test` (which would announce directories).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    plan = subprocess.run(["make", "--no-print-directory", "-n", "install",
                           "PYTHON=/usr/bin/python3"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert plan.splitlines()[0] == "/usr/bin/python3 -m venv .venv"
