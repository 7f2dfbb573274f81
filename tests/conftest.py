"""Fixtures: an app on a fresh SQLite database per test, its client and CLI runner."""
from __future__ import annotations

import datetime
import re
import shutil

import pytest

import cli
import models
from app import create_app
from nik import make_nik

BANYUWANGI_KEC = "351016"  # kecamatan Banyuwangi (35.10.16)
DESA = "35.10.16.1001"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Migrate and load the reference data once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                      "SECRET_KEY": "test"})
    with app.app_context(), models.db.connection_context():
        cli.migrate()
        cli.load_reference_data()
        models.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def app(template_db, tmp_path):
    path = tmp_path / "test.db"
    shutil.copy(template_db, path)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}",
                      "SECRET_KEY": "test-secret"})
    with app.app_context():
        models.db.connect(reuse_if_open=True)
        yield app
        models.db.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, path="/"):
    """The CSRF token of the form on `path`, as a browser would submit it."""
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


_serial = iter(range(1, 10000))


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
    def make(username="verif", role="verifikator", kantor=None, password="rahasia-123"):
        user = models.User(username=username, role=role, kantor=kantor)
        user.set_password(password)
        user.save()
        return user
    return make


def login(client, username, password="rahasia-123"):
    token = csrf_token(client, "/masuk")
    return client.post("/masuk", data={"username": username, "password": password,
                                       "csrf_token": token})
