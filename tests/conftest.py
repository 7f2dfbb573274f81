"""Fixtures: an app on a fresh SQLite database per test, its client and CLI runner."""
from __future__ import annotations

import datetime
import itertools
import os
import re
import shutil
import uuid
from urllib.parse import urlsplit, urlunsplit

import pyotp
import pytest
from flask import g

import cli
import models
import schema
from app import create_app
from nik import make_nik
from web import assets
from web import totp as accounts

BANYUWANGI_KEC = "351016"  # kecamatan Banyuwangi (35.10.16)
DESA = "35.10.16.1001"


@pytest.fixture(scope="session", autouse=True)
def static_assets(tmp_path_factory):
    """htmx copied and every static file digested and precompressed, as `make assets` does
    (the same function), when missing or out of date: before any app reads the manifest."""
    path = tmp_path_factory.mktemp("assets") / "unused.db"
    assets.build(create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                             "SECRET_KEY": "test", "RATELIMIT_STORAGE_URI": "memory://"}))


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Migrate and load the reference data once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                      "SECRET_KEY": "test", "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context(), models.db.connection_context():
        cli.migrate()
        cli.load_reference_data()
        models.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this test session, migrated once; dropped at the end."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL, e.g. "
                    "TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test")
    import psycopg

    name = f"cekbansos_test_{uuid.uuid4().hex[:10]}"
    parts = urlsplit(base)
    admin_conninfo = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path="/" + name))
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context(), models.db.connection_context():
        cli.migrate()
    models.db.close_all()
    yield url
    with psycopg.connect(admin_conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_postgres() -> None:
    """Empty every table and reload the reference data: each test starts from the same state."""
    tables = ", ".join(m._meta.table_name for m in schema.ALL_MODELS)
    models.db.execute_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    cli.load_reference_data()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, template_db, tmp_path):
    """Every test that uses the app runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL
    names a server."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(template_db, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url,
                      "SECRET_KEY": "test-secret", "RATELIMIT_STORAGE_URI": "memory://"})
    # The test's app context outlives each request, and Flask reuses it (and its `g`) for the
    # client's requests; in production every request starts with an empty `g`. Without this,
    # Flask-Login's cached user and Flask-WTF's CSRF token would leak between requests and
    # between two clients (two browsers) of one test.
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: g.__dict__.clear())
    with app.app_context():
        models.db.connect(reuse_if_open=True)
        if database_url.startswith("postgres"):
            _reset_postgres()
        yield app
        if not models.db.is_closed():
            models.db.close()
        if hasattr(models.db.obj, "close_all"):
            models.db.close_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path="/"):
    """The CSRF token of the form on `path`, as a browser would submit it.

    The forms anyone may send (the check, the report, an objection) carry none: a resident has
    no session. Tests that post staff forms after visiting such a page get the session's token
    from the sign-in page, as a browser that opened it would have.
    """
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if found is None and path != "/masuk":
        return csrf_token(client, "/masuk")
    return found.group(1) if found else ""


# Serials 0001-9999, over again when used up: NIKs need only be unique within one test, whose
# database starts empty, and the whole suite makes more than 9,999 of them.
_serial = itertools.cycle(range(1, 10000))


def new_nik(female=False, birth=datetime.date(1980, 5, 17), region=BANYUWANGI_KEC):
    """A valid, unused NIK from kecamatan Banyuwangi."""
    return make_nik(region, birth, female, next(_serial))


def add_person(nik=None, no_kk="3510160101200001", nama="SITI WAHYUNI", desa=DESA,
               alamat="Jl. Mawar 1 RT 001 RW 002"):
    nik = nik or new_nik()
    models.Person.create(nik=nik, no_kk=no_kk, nama=nama, alamat=alamat, desa=desa)
    return nik


@pytest.fixture
def make_user(app):
    """A staff account; admins get a TOTP secret (their second factor is required) unless
    totp=False, and any account gets one with totp=True."""
    def make(username="verif", role="verifikator", kantor=None, password="rahasia-123",
             totp=None):
        user = models.User(username=username, role=role, kantor=kantor)
        user.set_password(password)
        if totp or (totp is None and role == "admin"):
            user.totp_rahasia = accounts.seal(accounts.new_secret())
        user.save()
        return user
    return make


def totp_code(username) -> str:
    """The current one-time code of an account, as its authenticator app would show it.

    Forgets the last code used: tests sign the same account in several times a minute, and a
    code is otherwise accepted once.
    """
    user = models.User.get(models.User.username == username)
    models.User.update(totp_langkah=None).where(models.User.id == user.id).execute()
    return pyotp.TOTP(accounts.unseal(user.totp_rahasia)).now()


def login(client, username, password="rahasia-123"):
    """Sign in, with the one-time code too when the account has a second factor."""
    token = csrf_token(client, "/masuk")
    response = client.post("/masuk", data={"username": username, "password": password,
                                           "csrf_token": token})
    if response.status_code == 303 and response.headers["Location"] == "/masuk/kode":
        response = client.post("/masuk/kode", data={"kode": totp_code(username),
                                                    "csrf_token": token})
    return response


def pytest_terminal_summary(terminalreporter):
    if not os.environ.get("TEST_DATABASE_URL") and terminalreporter.stats.get("skipped"):
        terminalreporter.write_line(
            "PostgreSQL tests were skipped: set TEST_DATABASE_URL="
            "postgresql://USER@HOST:5432/DBNAME to run them too.")
