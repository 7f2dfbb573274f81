"""Schemes: an admin adds one, edits its name and benefit, and stops new enrolments; the
recipients it already has stay enrolled."""
from __future__ import annotations

import pytest

import models
from imports import recipients as importer
from models import Scheme
from tests.conftest import add_person, csrf_token, login, new_nik


@pytest.fixture
def admin(client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    return client


def post(client, path, **data):
    data["csrf_token"] = csrf_token(client, "/admin/skema")
    return client.post(path, data=data)


def test_add_a_scheme_and_enrol_in_it(admin):
    response = post(admin, "/admin/skema", kode="blt-kab", nama="BLT Kabupaten",
                    tingkat="kabupaten", satuan="keluarga", manfaat="Rp300.000 per bulan")
    assert response.status_code == 303
    scheme = Scheme.get_by_id("BLT-KAB")
    assert (scheme.nama, scheme.tingkat, scheme.satuan, scheme.aktif) == (
        "BLT Kabupaten", "kabupaten", "keluarga", True)
    nik = add_person()
    assert models.enrol(nik, "BLT-KAB", sumber="t").family_kk is not None
    assert "BLT-KAB" in admin.get("/admin/skema").get_data(as_text=True)


@pytest.mark.parametrize("fields, message", [
    (dict(kode="PKH", nama="Lagi", tingkat="pusat", satuan="keluarga"),
     "Kode skema PKH sudah ada."),
    (dict(kode="X", nama="Satu huruf", tingkat="pusat", satuan="keluarga"), "Kode skema 2–20"),
    (dict(kode="BARU", nama=" ", tingkat="pusat", satuan="keluarga"), "Isi nama skema."),
    (dict(kode="BARU", nama="Baru", tingkat="desa", satuan="keluarga"), "Pilih tingkat"),
    (dict(kode="BARU", nama="Baru", tingkat="pusat", satuan="rumah"), "Pilih sasaran"),
])
def test_add_refuses_bad_input(admin, fields, message):
    response = post(admin, "/admin/skema", **fields)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_edit_name_and_benefit_only(admin):
    response = post(admin, "/admin/skema/BST", nama="BST Kemensos", manfaat="Rp600.000 per tahap",
                    tingkat="kabupaten")
    assert response.status_code == 303
    scheme = Scheme.get_by_id("BST")
    assert (scheme.nama, scheme.manfaat, scheme.tingkat) == (
        "BST Kemensos", "Rp600.000 per tahap", "pusat")


def test_deactivate_stops_new_enrolments_and_keeps_the_old(admin):
    enrolled = add_person(no_kk="3510160101200041")
    models.enrol(enrolled, "BST", sumber="t")
    page = admin.get("/admin/skema/BST/nonaktifkan").get_data(as_text=True)
    assert "Hentikan penerimaan peserta baru BST?" in page and "1 penerima" in page
    assert Scheme.get_by_id("BST").aktif  # the confirmation page changes nothing
    assert post(admin, "/admin/skema/BST/nonaktifkan").status_code == 303
    assert not Scheme.get_by_id("BST").aktif
    assert models.covering(enrolled).skema == "BST"  # existing enrolments stay
    with pytest.raises(models.RegisterError, match="tidak menerima peserta baru"):
        models.enrol(add_person(no_kk="3510160101200042"), "BST", sumber="t")
    text = ("nik,no_kk,nama,alamat,kode_desa,skema\n"
            f"{new_nik()},3510160101200043,A,B,35.10.16.1001,BST\n")
    result = importer.import_register(importer.read_text(text))
    assert not result.written and "BST sudah tidak aktif" in result.problems[0].message
    assert post(admin, "/admin/skema/BST/aktifkan").status_code == 303
    assert Scheme.get_by_id("BST").aktif


def test_unknown_scheme_is_404(admin):
    assert admin.get("/admin/skema/TIDAK-ADA").status_code == 404
