"""Accounts: an admin creates, changes, resets and deactivates them; the office can never lose
its last active admin, whatever the order of requests."""
from __future__ import annotations

import threading

import pytest

import models
from models import User
from office import accounts as office
from tests.conftest import csrf_token, login


@pytest.fixture
def admin(client, make_user):
    user = make_user("kepala", "admin")
    login(client, "kepala")
    return user


def post(client, path, **data):
    data["csrf_token"] = csrf_token(client, "/admin/pengguna")
    return client.post(path, data=data)


def test_create_an_account_that_can_sign_in(app, client, admin):
    response = post(client, "/admin/pengguna", username="Budi.Giri", role="petugas",
                    kantor="35.10.16.1001", kata_sandi="kata-sandi-baru", ulangi="kata-sandi-baru")
    assert response.status_code == 303
    user = User.get(User.username == "budi.giri")
    assert (user.role, user.kantor_kode, user.aktif) == ("petugas", "35.10.16.1001", True)
    assert user.check_password("kata-sandi-baru")
    other = app.test_client()
    assert login(other, "budi.giri", "kata-sandi-baru").headers["Location"] == "/kios"


@pytest.mark.parametrize("fields, message", [
    (dict(username="budi", role="petugas", kata_sandi="pendek", ulangi="pendek"),
     "Kata sandi minimal 12 karakter."),
    (dict(username="budi", role="raja", kata_sandi="kopi-sawah-12", ulangi="kopi-sawah-12"),
     "Pilih peran"),
    (dict(username="b!", role="petugas", kata_sandi="kopi-sawah-12", ulangi="kopi-sawah-12"),
     "Nama pengguna 3–50 karakter"),
    (dict(username="kepala", role="petugas", kata_sandi="kopi-sawah-12", ulangi="kopi-sawah-12"),
     "Nama pengguna kepala sudah dipakai."),
    (dict(username="budi", role="petugas", kata_sandi="kopi-sawah-12", ulangi="y" * 12),
     "Kedua kata sandi tidak sama."),
    (dict(username="budi", role="petugas", kantor="35.10.99", kata_sandi="kopi-sawah-12",
          ulangi="kopi-sawah-12"), "Kode kantor 35.10.99 tidak dikenal."),
])
def test_create_refuses_bad_input_with_a_message(client, admin, fields, message):
    response = post(client, "/admin/pengguna", **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert User.select().count() == 1


def test_deactivated_account_cannot_sign_in_and_loses_its_session(app, client, admin,
                                                                   make_user):
    worker = make_user("petugas1", "petugas", kantor="35.10.16.1001")
    their = app.test_client()
    login(their, "petugas1")
    assert their.get("/kios").status_code == 200
    page = client.get(f"/admin/pengguna/{worker.id}/nonaktifkan").get_data(as_text=True)
    assert "Nonaktifkan akun petugas1?" in page and 'method="post"' in page
    assert User.get_by_id(worker.id).aktif  # the confirmation page changes nothing
    assert post(client, f"/admin/pengguna/{worker.id}/nonaktifkan").status_code == 303
    assert not User.get_by_id(worker.id).aktif
    assert their.get("/kios").status_code == 302  # signed out at once
    assert login(app.test_client(), "petugas1").status_code != 303
    post(client, f"/admin/pengguna/{worker.id}/aktifkan")
    assert login(app.test_client(), "petugas1").status_code == 303


def test_reset_password_ends_every_session(app, client, admin, make_user):
    verif = make_user("verif1", "verifikator")
    their = app.test_client()
    login(their, "verif1")
    response = post(client, f"/admin/pengguna/{verif.id}/kata-sandi",
                    kata_sandi="sandi-baru-123", ulangi="sandi-baru-123")
    assert response.status_code == 303
    assert their.get("/verifikasi").status_code == 302  # the old session is over
    assert login(app.test_client(), "verif1", "rahasia-123").status_code != 303
    assert login(app.test_client(), "verif1", "sandi-baru-123").status_code == 303


def test_change_role_and_office(app, client, admin, make_user):
    verif = make_user("verif1", "verifikator")
    their = app.test_client()
    login(their, "verif1")
    response = post(client, f"/admin/pengguna/{verif.id}/ubah", role="petugas",
                    kantor="35.10.16")
    assert response.status_code == 303
    user = User.get_by_id(verif.id)
    assert (user.role, user.kantor_kode) == ("petugas", "35.10.16")
    assert their.get("/verifikasi").status_code == 302  # the new role needs a new sign-in


def test_last_active_admin_cannot_be_deactivated_or_demoted(client, admin):
    response = post(client, f"/admin/pengguna/{admin.id}/nonaktifkan")
    assert response.status_code == 409
    assert "satu-satunya admin yang aktif" in response.get_data(as_text=True)
    response = post(client, f"/admin/pengguna/{admin.id}/ubah", role="verifikator")
    assert response.status_code == 409
    user = User.get_by_id(admin.id)
    assert (user.aktif, user.role) == (True, "admin")


def test_an_admin_may_go_while_another_stays(client, admin, make_user):
    second = make_user("wakil", "admin")
    office.set_active(second.id, False)
    with pytest.raises(office.OfficeError):
        office.set_active(admin.id, False)  # the inactive one does not count
    office.set_active(second.id, True)
    office.update_user(admin.id, "verifikator", None)
    with pytest.raises(office.OfficeError):
        office.update_user(second.id, "petugas", None)


def test_two_admins_demoting_each_other_at_once_leave_one(app, make_user):
    """Two transactions at the same moment: exactly one succeeds, one admin remains."""
    one, two = make_user("satu", "admin"), make_user("dua", "admin")
    barrier, outcomes = threading.Barrier(2), []

    def demote(user_id):
        with app.app_context():
            models.db.connect(reuse_if_open=True)
            try:
                barrier.wait()
                office.update_user(user_id, "verifikator", None)
                outcomes.append("ok")
            except office.OfficeError:
                outcomes.append("refused")
            finally:
                models.db.close()

    threads = [threading.Thread(target=demote, args=(uid,)) for uid in (one.id, two.id)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "refused"]
    assert User.select().where(User.role == "admin", User.aktif == True).count() == 1  # noqa: E712


def test_account_pages(client, admin):
    page = client.get("/admin/pengguna").get_data(as_text=True)
    assert "kepala" in page and "Akun baru" in page and "Kecamatan Banyuwangi" in page
    page = client.get(f"/admin/pengguna/{admin.id}").get_data(as_text=True)
    assert "Kata sandi baru" in page and "Nonaktifkan akun" in page
    assert client.get("/admin/pengguna/999999").status_code == 404
