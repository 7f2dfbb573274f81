"""Staff accounts: create-user on the command line, sign in at /masuk, sign out at /keluar."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import models
from tests.conftest import csrf_token, login

ROOT = Path(__file__).resolve().parent.parent
FLASK = [str(Path(sys.executable).parent / "flask"), "--app", "app"]


def create(runner, *args, password="rahasia-1234", again=None):
    again = password if again is None else again
    return runner.invoke(args=["create-user", *args], input=f"{password}\n{again}\n")


def test_create_user_reads_the_password_twice_from_a_pipe(app, runner):
    result = create(runner, "budi", "--role", "petugas", "--kantor", "35.10.16.1001")
    assert result.exit_code == 0, result.output
    assert "Akun budi (petugas) dibuat." in result.output
    user = models.User.get(models.User.username == "budi")
    assert (user.role, user.kantor_kode) == ("petugas", "35.10.16.1001")
    assert user.password_hash.startswith("scrypt:") and "rahasia-1234" not in user.password_hash
    assert user.check_password("rahasia-1234") and not user.check_password("rahasia-1235")


def test_create_user_kantor_may_be_a_kecamatan_or_left_out(app, runner):
    assert create(runner, "ani", "--role", "verifikator", "--kantor", "35.10.16").exit_code == 0
    assert create(runner, "edi", "--role", "petugas", "--kantor", "3510161001").exit_code == 0
    assert models.User.get(models.User.username == "edi").kantor_kode == "35.10.16.1001"
    assert create(runner, "kepala", "--role", "admin").exit_code == 0
    assert models.User.get(models.User.username == "kepala").kantor_kode is None


@pytest.mark.parametrize("args,password,again,message", [
    (["--role", "petugas"], "rahasia-1234", "rahasia-1235", "Kedua kata sandi tidak sama."),
    (["--role", "petugas"], "pendek", None, "Kata sandi minimal 12 karakter."),
    (["--role", "petugas", "--kantor", "35.10.99.9999"], "rahasia-1234", None,
     "Kode kantor 35.10.99.9999 tidak dikenal."),
    (["--role", "bos"], "rahasia-1234", None, "Invalid value for '--role'"),
])
def test_create_user_refuses_bad_input(app, runner, args, password, again, message):
    result = create(runner, "budi", *args, password=password, again=again)
    assert result.exit_code != 0 and message in result.output
    assert models.User.select().count() == 0


def test_create_user_refuses_a_taken_username(app, runner):
    assert create(runner, "budi", "--role", "petugas").exit_code == 0
    result = create(runner, "budi", "--role", "admin", password="lain-lain-123")
    assert result.exit_code != 0 and "Nama pengguna budi sudah dipakai." in result.output
    assert models.User.get(models.User.username == "budi").role == "petugas"


def test_create_user_in_a_shell_pipeline(tmp_path):
    """The README's scripted form, through a real pipe: printf 'pw\\npw\\n' | flask create-user."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
               RATELIMIT_STORAGE_URI="memory://", SECRET_KEY="t")
    subprocess.run([*FLASK, "init-db"], cwd=ROOT, env=env, check=True, capture_output=True)
    flask = " ".join(FLASK)
    result = subprocess.run(
        f"printf 'rahasia-1234\\nrahasia-1234\\n' | {flask} create-user budi --role petugas "
        "--kantor 35.10.16.1001", shell=True, cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "rahasia-1234" not in result.stdout + result.stderr
    from app import create_app

    app = create_app({"DATABASE_URL": env["DATABASE_URL"], "SECRET_KEY": "t",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context(), models.db.connection_context():
        # A fresh database has no account but the one just made.
        assert [u.username for u in models.User.select()] == ["budi"]
    client = app.test_client()
    with app.app_context():
        assert login(client, "budi", "rahasia-1234").headers["Location"] == "/kios"


def test_sign_in_goes_to_the_role_home(client, make_user):
    make_user("petugas1", role="petugas", kantor="35.10.16.1001")
    response = login(client, "petugas1")
    assert response.status_code == 303 and response.headers["Location"] == "/kios"
    assert client.get("/kios").status_code == 200


def test_wrong_password_or_unknown_user(client, make_user):
    make_user("petugas1", role="petugas")
    for username, password in (("petugas1", "salah-sekali"), ("siapa", "rahasia-123")):
        response = login(client, username, password)
        assert response.status_code == 200
        assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert client.get("/kios").status_code == 302


def test_disabled_account_cannot_sign_in(client, make_user):
    user = make_user("lama", role="petugas")
    user.aktif = False
    user.save()
    assert login(client, "lama").status_code == 200
    assert client.get("/kios").status_code == 302


def test_sign_in_follows_next_only_within_the_site(client, make_user):
    make_user("petugas1", role="petugas")
    token = csrf_token(client, "/masuk")
    form = {"username": "petugas1", "password": "rahasia-123", "csrf_token": token}
    for target, expected in (("/lacak", "/lacak"), ("https://jahat.example/", "/kios"),
                             ("//jahat.example/", "/kios")):
        response = client.post("/masuk", query_string={"next": target}, data=form)
        assert response.headers["Location"] == expected
        client.post("/keluar", data={"csrf_token": csrf_token(client, "/lapor")})


def test_sign_out_is_a_post_and_ends_the_session(client, make_user):
    make_user("petugas1", role="petugas")
    login(client, "petugas1")
    assert client.get("/keluar").status_code == 405
    response = client.post("/keluar", data={"csrf_token": csrf_token(client, "/lapor")})
    assert response.status_code == 303 and response.headers["Location"] == "/masuk"
    assert client.get("/kios").status_code == 302


def test_sign_out_forgets_the_kiosk_screen(client, make_user):
    make_user("petugas1", role="petugas")
    login(client, "petugas1")
    client.post("/kios/cek", data={"nik": "3510161705800001",
                                   "csrf_token": csrf_token(client, "/kios")})
    client.post("/keluar", data={"csrf_token": csrf_token(client, "/lapor")})
    with client.session_transaction() as session:
        assert not [key for key in session if key.startswith(("kios", "_user"))]
