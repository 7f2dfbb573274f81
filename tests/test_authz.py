"""The authorization matrix: every route × every role → the expected status.

Roles: anonymous, petugas (office kiosk), verifikator for the whole kabupaten, verifikator scoped
to one kecamatan (35.10.16, Banyuwangi), admin. `{here}` is a case code in that kecamatan,
`{there}` one in another kecamatan: a scoped verifikator gets 404 for it, as if it did not exist.

A new route fails `test_every_route_is_in_the_matrix` until it has an entry here: decide who may
use it, then add a line. POSTs carry a valid CSRF token and deliberately empty or wrong data, so
an allowed role gets a validation answer (200, 303, 409, 422) and nothing changes.
"""
from __future__ import annotations

import pytest

import models
from cases import casework, objections
from tests.conftest import DESA, csrf_token, login, new_nik

ANON, PETUGAS, VERIF, SCOPED, ADMIN = "anonim", "petugas", "verifikator", "verif-kec", "admin"
ROLES = (ANON, PETUGAS, VERIF, SCOPED, ADMIN)
OTHER_DESA = "35.10.01.2001"  # kecamatan Pesanggaran


def everyone(status: int) -> dict:
    return dict.fromkeys(ROLES, status)


def staff(status: int, *, anon: int = 302, **others) -> dict:
    """Any signed-in staff member gets `status`; anonymous users are sent to sign in."""
    return {ANON: anon, PETUGAS: status, VERIF: status, SCOPED: status, ADMIN: status, **others}


def petugas_only(status: int) -> dict:
    return {ANON: 302, PETUGAS: status, VERIF: 403, SCOPED: 403, ADMIN: 403}


def reviewers(status: int, scoped: int | None = None) -> dict:
    return {ANON: 302, PETUGAS: 403, VERIF: status,
            SCOPED: status if scoped is None else scoped, ADMIN: status}


# (method, rule, path, form data or None, {role: status})
MATRIX = [
    # Public pages: the same for everyone, signed in or not.
    ("GET", "/", "/", None, everyone(200)),
    ("GET", "/cek", "/cek", None, everyone(303)),
    ("POST", "/cek", "/cek", {"nik": "123"}, everyone(200)),
    ("GET", "/static/<path:filename>", "/static/style.css", None, everyone(200)),
    ("GET", "/static/<path:filename>", "/static/{css}", None, everyone(200)),
    ("GET", "/static/<path:filename>", "/static/{htmx}", None, everyone(200)),
    ("GET", "/lapor", "/lapor", None, everyone(200)),
    ("POST", "/lapor", "/lapor", {"nama": ""}, everyone(200)),
    ("GET", "/lapor/desa", "/lapor/desa?kecamatan=35.10.16", None, everyone(200)),
    ("GET", "/laporan/<kode>", "/laporan/{here}", None, everyone(200)),
    ("GET", "/laporan/<kode>", "/laporan/ZZZZZZZZ", None, everyone(404)),
    ("GET", "/lacak", "/lacak", None, everyone(200)),
    ("GET", "/sehat", "/sehat", None, everyone(200)),
    # Signing in and out; the account pages.
    ("GET", "/masuk", "/masuk", None, everyone(200)),
    ("POST", "/masuk", "/masuk", {"username": "", "password": ""}, everyone(200)),
    ("GET", "/masuk/kode", "/masuk/kode", None, everyone(303)),
    ("POST", "/masuk/kode", "/masuk/kode", {"kode": "000000"}, everyone(303)),
    ("GET", "/akun", "/akun", None, staff(200)),
    ("GET", "/akun/kata-sandi", "/akun/kata-sandi", None, staff(200)),
    ("POST", "/akun/kata-sandi", "/akun/kata-sandi", {"lama": "salah"}, staff(200)),
    # Enrolling: not without a password step; admins here have a second factor already.
    ("GET", "/akun/kode-masuk", "/akun/kode-masuk", None, staff(200, anon=303, admin=303)),
    ("POST", "/akun/kode-masuk", "/akun/kode-masuk", {"kode": "1"},
     staff(200, anon=303, admin=303)),
    ("POST", "/akun/kode-masuk/matikan", "/akun/kode-masuk/matikan", {"kode": "1"},
     staff(302, admin=303)),
    ("POST", "/keluar", "/keluar", {}, everyone(303)),
    # The office kiosk: petugas only.
    ("GET", "/kios", "/kios", None, petugas_only(200)),
    ("POST", "/kios", "/kios", {"sekali": "lama"}, petugas_only(303)),
    ("POST", "/kios/cek", "/kios/cek", {"nik": "123"}, petugas_only(303)),
    ("POST", "/kios/selesai", "/kios/selesai", {}, petugas_only(303)),
    ("GET", "/kios/cetak-ulang", "/kios/cetak-ulang", None, petugas_only(200)),
    ("POST", "/kios/cetak-ulang", "/kios/cetak-ulang", {"kode": "ABCD2345"}, petugas_only(303)),
    ("GET", "/kios/tanda-terima", "/kios/tanda-terima", None, petugas_only(303)),
    # The bulk check: any signed-in staff member; a result is its owner's only.
    ("GET", "/cek-massal", "/cek-massal", None, staff(200)),
    ("POST", "/cek-massal", "/cek-massal", {}, staff(422)),
    ("GET", "/cek-massal/<token>", "/cek-massal/" + "0" * 24, None, staff(404)),
    ("GET", "/cek-massal/<token>.csv", "/cek-massal/" + "0" * 24 + ".csv", None, staff(404)),
    ("GET", "/cek-massal/<token>.xlsx", "/cek-massal/" + "0" * 24 + ".xlsx", None,
     staff(404)),
    # The reviewer's desk: verifikator and admin; a scoped verifikator sees one kecamatan.
    ("GET", "/verifikasi", "/verifikasi", None, reviewers(200)),
    ("GET", "/verifikasi/<kode>", "/verifikasi/{here}", None, reviewers(200)),
    ("GET", "/verifikasi/<kode>", "/verifikasi/{there}", None, reviewers(200, scoped=404)),
    ("POST", "/verifikasi/<kode>/putusan", "/verifikasi/{here}/putusan", {"putusan": ""},
     reviewers(422)),
    ("POST", "/verifikasi/<kode>/putusan", "/verifikasi/{there}/putusan", {"putusan": ""},
     reviewers(422, scoped=404)),
    ("POST", "/verifikasi/<kode>/salurkan", "/verifikasi/{here}/salurkan", {"tanggal": ""},
     reviewers(409)),
    ("POST", "/verifikasi/<kode>/salurkan", "/verifikasi/{there}/salurkan", {"tanggal": ""},
     reviewers(409, scoped=404)),
    # Public lists per desa and objections (sanggahan): no account needed, the objector's
    # identity is on the reviewers' pages only; a scoped verifikator sees one kecamatan.
    ("GET", "/daftar", "/daftar", None, everyone(200)),
    ("GET", "/daftar/<kode>", "/daftar/35.10.16", None, everyone(200)),
    ("GET", "/daftar/<kode>", f"/daftar/{DESA}", None, everyone(200)),
    ("GET", "/daftar/<kode>/cetak", f"/daftar/{DESA}/cetak", None, everyone(200)),
    ("GET", "/sanggah/<int:enrolment_id>", "/sanggah/{listed}", None, everyone(200)),
    ("POST", "/sanggah/<int:enrolment_id>", "/sanggah/{listed}", {"alasan": ""}, everyone(200)),
    ("GET", "/sanggahan/<kode>", "/sanggahan/{objection_there}", None, everyone(200)),
    ("GET", "/verifikasi/<kode>", "/verifikasi/{objection_there}", None,
     reviewers(200, scoped=404)),
    ("GET", "/verifikasi/sanggahan/<kode>", "/verifikasi/sanggahan/{objection_here}", None,
     reviewers(200)),
    ("GET", "/verifikasi/sanggahan/<kode>", "/verifikasi/sanggahan/{objection_there}", None,
     reviewers(200, scoped=404)),
    ("POST", "/verifikasi/sanggahan/<kode>/putusan", "/verifikasi/sanggahan/{objection_here}"
     "/putusan", {"putusan": ""}, reviewers(422)),
    ("POST", "/verifikasi/sanggahan/<kode>/putusan", "/verifikasi/sanggahan/{objection_there}"
     "/putusan", {"putusan": ""}, reviewers(422, scoped=404)),
    # The office's desk (/admin): admins only. Unknown ids answer 404 to admins.
    ("GET", "/admin/", "/admin/", None, staff(403, admin=200)),
    ("GET", "/admin/impor", "/admin/impor", None, staff(403, admin=200)),
    ("POST", "/admin/impor", "/admin/impor", {"lewati": "1"}, staff(403, admin=422)),
    ("GET", "/admin/impor/<int:job_id>", "/admin/impor/999999", None, staff(403, admin=404)),
    ("GET", "/admin/impor/<int:job_id>/batal", "/admin/impor/999999/batal", None,
     staff(403, admin=404)),
    ("POST", "/admin/impor/<int:job_id>/batal", "/admin/impor/999999/batal", {},
     staff(403, admin=404)),
    ("POST", "/admin/impor/<int:job_id>/baris-benar", "/admin/impor/999999/baris-benar", {},
     staff(403, admin=404)),
    ("GET", "/admin/impor/<int:job_id>/masalah.csv", "/admin/impor/999999/masalah.csv", None,
     staff(403, admin=404)),
    ("GET", "/admin/impor/<int:job_id>/kolom", "/admin/impor/999999/kolom", None,
     staff(403, admin=404)),
    ("POST", "/admin/impor/<int:job_id>/kolom", "/admin/impor/999999/kolom", {},
     staff(403, admin=404)),
    ("GET", "/admin/impor/<int:job_id>/baris-ditolak.csv",
     "/admin/impor/999999/baris-ditolak.csv", None, staff(403, admin=404)),
    ("GET", "/admin/ekspor", "/admin/ekspor", None, staff(403, admin=200)),
    ("GET", "/admin/ekspor/penerima.csv", "/admin/ekspor/penerima.csv", None,
     staff(403, admin=200)),
    ("GET", "/admin/ekspor/laporan.csv", "/admin/ekspor/laporan.csv", None,
     staff(403, admin=200)),
    ("GET", "/admin/ekspor/penerima.xlsx", "/admin/ekspor/penerima.xlsx", None,
     staff(403, admin=200)),
    ("GET", "/admin/ekspor/laporan.xlsx", "/admin/ekspor/laporan.xlsx", None,
     staff(403, admin=200)),
    ("GET", "/admin/jejak", "/admin/jejak", None, staff(403, admin=200)),
    ("GET", "/admin/pengguna", "/admin/pengguna", None, staff(403, admin=200)),
    ("POST", "/admin/pengguna", "/admin/pengguna", {"username": ""}, staff(403, admin=422)),
    ("GET", "/admin/pengguna/<int:user_id>", "/admin/pengguna/999999", None,
     staff(403, admin=404)),
    ("POST", "/admin/pengguna/<int:user_id>/ubah", "/admin/pengguna/999999/ubah",
     {"role": ""}, staff(403, admin=404)),
    ("POST", "/admin/pengguna/<int:user_id>/kata-sandi", "/admin/pengguna/999999/kata-sandi",
     {"kata_sandi": ""}, staff(403, admin=404)),
    ("GET", "/admin/pengguna/<int:user_id>/nonaktifkan", "/admin/pengguna/999999/nonaktifkan",
     None, staff(403, admin=404)),
    ("POST", "/admin/pengguna/<int:user_id>/nonaktifkan", "/admin/pengguna/999999/nonaktifkan",
     {}, staff(403, admin=404)),
    ("POST", "/admin/pengguna/<int:user_id>/aktifkan", "/admin/pengguna/999999/aktifkan", {},
     staff(403, admin=404)),
    ("GET", "/admin/skema", "/admin/skema", None, staff(403, admin=200)),
    ("GET", "/admin/sms", "/admin/sms", None, staff(403, admin=200)),
    ("POST", "/admin/skema", "/admin/skema", {"kode": ""}, staff(403, admin=422)),
    ("GET", "/admin/skema/<kode>", "/admin/skema/PKH", None, staff(403, admin=200)),
    ("POST", "/admin/skema/<kode>", "/admin/skema/PKH", {"nama": ""}, staff(403, admin=422)),
    ("GET", "/admin/skema/<kode>/nonaktifkan", "/admin/skema/PKH/nonaktifkan", None,
     staff(403, admin=200)),
    ("POST", "/admin/skema/<kode>/nonaktifkan", "/admin/skema/TIDAK-ADA/nonaktifkan", {},
     staff(403, admin=404)),
    ("GET", "/admin/skema/<kode>/jadwal", "/admin/skema/PKH/jadwal", None,
     staff(403, admin=200)),
    ("POST", "/admin/skema/<kode>/jadwal", "/admin/skema/PKH/jadwal", {},
     staff(403, admin=422)),
    ("POST", "/admin/skema/<kode>/jadwal/<int:period_id>/hapus",
     "/admin/skema/PKH/jadwal/999999/hapus", {}, staff(403, admin=404)),
    ("GET", "/admin/kantor", "/admin/kantor", None, staff(403, admin=200)),
    ("GET", "/admin/kantor/<kode>", "/admin/kantor/dinsos", None, staff(403, admin=200)),
    ("POST", "/admin/kantor/<kode>", "/admin/kantor/dinsos", {"nama": ""},
     staff(403, admin=422)),
    ("POST", "/admin/skema/<kode>/aktifkan", "/admin/skema/TIDAK-ADA/aktifkan", {},
     staff(403, admin=404)),
    ("GET", "/admin/penduduk", "/admin/penduduk", None, staff(403, admin=200)),
    ("POST", "/admin/penduduk", "/admin/penduduk", {"nik": "123"}, staff(403, admin=422)),
    ("GET", "/admin/penduduk/<token>", "/admin/penduduk/bukan-token", None,
     staff(403, admin=303)),
    ("GET", "/admin/kepesertaan/<int:enrolment_id>/akhiri",
     "/admin/kepesertaan/{listed}/akhiri", None, staff(403, admin=200)),
    ("POST", "/admin/kepesertaan/<int:enrolment_id>/akhiri",
     "/admin/kepesertaan/{listed}/akhiri", {"alasan": ""}, staff(403, admin=422)),
    ("GET", "/admin/statistik", "/admin/statistik", None, staff(403, admin=200)),
    ("GET", "/statistik", "/statistik", None, everyone(200)),
    # Rice aid: every staff member follows progress; admins make programmes and import lists;
    # admins and verifikator record cooking tests; petugas and admins work the counter. The
    # role is checked before the programme is looked up: an unknown one is 404 to the allowed.
    ("GET", "/beras", "/beras", None, staff(200)),
    ("GET", "/beras/baru", "/beras/baru", None, staff(403, admin=200)),
    ("POST", "/beras/baru", "/beras/baru", {"nama": ""}, staff(403, admin=200)),
    ("GET", "/beras/<int:programme_id>", "/beras/999999", None, staff(404)),
    ("POST", "/beras/<int:programme_id>/daftar", "/beras/999999/daftar", {},
     staff(403, admin=404)),
    ("GET", "/beras/<int:programme_id>/uji-tanak", "/beras/999999/uji-tanak", None,
     reviewers(404)),
    ("POST", "/beras/<int:programme_id>/uji-tanak", "/beras/999999/uji-tanak", {"batch": ""},
     reviewers(404)),
    ("GET", "/beras/<int:programme_id>/kemajuan", "/beras/999999/kemajuan", None, staff(404)),
    ("GET", "/beras/<int:programme_id>/pengembalian", "/beras/999999/pengembalian", None,
     staff(404)),
    ("POST", "/beras/<int:programme_id>/pengembalian/<int:return_id>/ganti",
     "/beras/999999/pengembalian/999999/ganti", {"batch": ""}, staff(403, petugas=404,
                                                                  admin=404)),
    ("GET", "/beras/<int:programme_id>/impor", "/beras/999999/impor", None,
     staff(403, admin=404)),
    ("POST", "/beras/<int:programme_id>/impor", "/beras/999999/impor", {},
     staff(403, admin=404)),
    ("POST", "/beras/<int:programme_id>/impor/kolom", "/beras/999999/impor/kolom",
     {"jumlah": "1", "judul-0": "x", "kolom-0": "no_kk"}, staff(403, admin=404)),
    ("GET", "/beras/<int:programme_id>/loket", "/beras/999999/loket", None,
     staff(403, petugas=404, admin=404)),
    ("POST", "/beras/<int:programme_id>/loket/atur", "/beras/999999/loket/atur", {"titik": ""},
     staff(403, petugas=404, admin=404)),
    ("POST", "/beras/<int:programme_id>/loket/cari", "/beras/999999/loket/cari", {"nomor": ""},
     staff(403, petugas=404, admin=404)),
    ("POST", "/beras/<int:programme_id>/loket/serahkan", "/beras/999999/loket/serahkan",
     {"tahap": ""}, staff(403, petugas=404, admin=404)),
    ("POST", "/beras/<int:programme_id>/loket/kembali", "/beras/999999/loket/kembali",
     {"tahap": ""}, staff(403, petugas=404, admin=404)),
    ("POST", "/beras/<int:programme_id>/loket/selesai", "/beras/999999/loket/selesai", {},
     staff(403, petugas=404, admin=404)),
]


def _methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def test_every_route_is_in_the_matrix(app):
    listed = {(method, rule) for method, rule, *_ in MATRIX}
    missing = sorted((method, rule.rule) for rule in app.url_map.iter_rules()
                     for method in _methods(rule) if (method, rule.rule) not in listed)
    assert not missing, ("Routes without an entry in tests/test_authz.py MATRIX (decide who "
                         f"may use each, then add it): {missing}")
    known = {(method, rule.rule) for rule in app.url_map.iter_rules() for method in _methods(rule)}
    stale = sorted(listed - known)
    assert not stale, f"MATRIX entries for routes that no longer exist: {stale}"


@pytest.fixture
def cases(app):
    def submit(desa):
        subject = {"nik": new_nik(), "nama": "BUDI SANTOSO", "no_kk": None,
                   "alamat": "Jl. Kenanga 3", "desa": desa, "kategori": "lainnya",
                   "keterangan": ""}
        reporter = {"hubungan": "orang-lain", "nama": "TETANGGA", "nik": None,
                    "telepon": None}
        return casework.submit_report(subject, reporter)[0].kode
    def object_to(desa, phone):
        """An objection (sanggahan) to a recipient listed in `desa`: (enrolment id, code)."""
        nik = new_nik()
        models.Person.create(nik=nik, nama="SITI WAHYUNI", alamat="Jl. Mawar 1", desa=desa)
        enrolment = models.enrol(nik, "RANTANG-KASIH", sumber="tes")
        found, _ = objections.submit_objection(enrolment.id, {
            "alasan": "mampu", "keterangan": "", "nama": "P", "telepon": phone})
        return enrolment.id, found.kode

    listed, objection_here = object_to(DESA, "081200000001")
    _, objection_there = object_to(OTHER_DESA, "081200000002")
    return {"here": submit(DESA), "there": submit(OTHER_DESA), "listed": listed,
            "objection_here": objection_here, "objection_there": objection_there}


def _client_for(app, role, make_user):
    client = app.test_client()
    if role == ANON:
        return client
    username = f"u-{role}"
    kind = "verifikator" if role == SCOPED else role
    kantor = {PETUGAS: "35.10.16.1001", SCOPED: "35.10.16"}.get(role)
    make_user(username, role=kind, kantor=kantor)
    response = login(client, username)
    assert response.status_code == 303, f"{role} could not sign in"
    return client


@pytest.mark.parametrize("role", ROLES)
def test_matrix(app, make_user, cases, role):
    from extensions import limiter, static_digest

    limiter.enabled = False  # the matrix asks who may, not how often
    try:
        client = _client_for(app, role, make_user)
        manifest = static_digest.manifests.get("static", {})  # the digested asset names
        values = dict(cases, css=manifest.get("style.css", "style.css"),
                      htmx=manifest.get("htmx.min.js", "htmx.min.js"))
        wrong = []
        # Signing out last: it ends this role's session.
        for method, rule, path, data, expected in sorted(MATRIX, key=lambda e: e[1] == "/keluar"):
            want = expected[role]
            if "{htmx}" in path and "htmx.min.js" not in manifest:
                want = 404  # htmx is not installed (node_modules missing)
            url = path.format(**values)
            before = _state()
            if method == "GET":
                response = client.get(url)
            else:
                token = csrf_token(client, "/masuk")
                response = client.post(url, data=dict(data, csrf_token=token))
            if response.status_code != want:
                wrong.append(f"{method} {url}: {response.status_code}, expected {want}")
            if method == "POST" and rule != "/keluar" and _state() != before:
                wrong.append(f"{method} {url}: changed stored data")
        assert not wrong, f"{role}:\n" + "\n".join(wrong)
    finally:
        limiter.enabled = True


def _state() -> tuple:
    return (models.Report.select().count(), models.ReportEvent.select().count(),
            models.Enrolment.select().count(), models.Reporter.select().count(),
            models.User.select(models.User.password_hash).order_by(models.User.id).tuples()[:],
            [r.status for r in models.Report.select(models.Report.status)])
