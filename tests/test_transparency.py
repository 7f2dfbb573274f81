"""Public lists per desa and objections from residents: masking, budget, abuse limits."""
from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
import time_machine

import models
from cases import objections
from tests.conftest import DESA, add_person, csrf_token, new_nik
from views.transparency import rt_rw

CSS = Path(__file__).resolve().parent.parent / "static" / "style.css"
DAY0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=models.WIB)
OTHER_DESA = "35.10.01.2001"  # Sarongan, kecamatan Pesanggaran
NAMES = ["SITI WAHYUNI", "BUDI SANTOSO", "AHMAD FAUZI RAHMAN", "NI LUH PUTU ARTINI",
         "MUHAMMAD RIZKY", "DEWI LESTARI", "KARTINI"]


@pytest.fixture(autouse=True)
def clock(app):
    from extensions import limiter

    limiter.reset()  # counters live in process memory across tests
    with time_machine.travel(DAY0, tick=False) as traveller:
        yield traveller


def enrolled(nama="SITI WAHYUNI", scheme="RANTANG-KASIH", desa=DESA, no_kk=None,
             alamat="Jl. Mawar 17 RT 003 RW 005", nik=None):
    nik = add_person(nik=nik or new_nik(), nama=nama, desa=desa, alamat=alamat,
                     no_kk=no_kk or f"35101601012{next(_cards):05d}")
    return models.enrol(nik, scheme, sumber="impor:tes")


_cards = iter(range(1, 99999))


def object_to(client, enrolment, **changes):
    data = {"alasan": "mampu", "keterangan": "Sudah punya toko besar.", "nama": "WARGA PEDULI",
            "telepon": "0812 3456 7890"}
    data.update(changes)
    data["csrf_token"] = csrf_token(client, "/")
    return client.post(f"/sanggah/{enrolment.id}", data=data)


def submitted(client, enrolment, **changes) -> objections.Objection:
    response = object_to(client, enrolment, **changes)
    assert response.status_code == 303, response.get_data(as_text=True)
    return objections.Objection.by_code(response.location.rsplit("/", 1)[1].split("?")[0])


# The lists ------------------------------------------------------------------------------------

def test_reached_from_kecamatan_then_desa(client):
    enrolled()
    home = client.get("/").get_data(as_text=True)
    assert 'href="/daftar"' in home
    html = client.get("/daftar").get_data(as_text=True)
    assert html.count('href="/daftar/35.10.') == 25  # every kecamatan
    html = client.get("/daftar/35.10.16").get_data(as_text=True)
    assert f'href="/daftar/{DESA}"' in html and "35.10.01." not in html
    assert client.get("/daftar/3510161001").status_code == 200  # code without dots
    for bad in ("/daftar/35.10.99", "/daftar/xyz", "/daftar/35.10.16/cetak"):
        assert client.get(bad).status_code == 404


def test_every_name_masked_and_no_nik_kk_or_address(client):
    schemes = ["PKH", "BPNT", "RANTANG-KASIH", "SEMBAKO-BWI", "BST", "BLT-DD", "DISABILITAS-BWI"]
    rows = [enrolled(nama, scheme, alamat=f"Jl. Kenanga Gang Cempedak {i} RT 00{i} RW 011")
            for i, (nama, scheme) in enumerate(zip(NAMES, schemes, strict=True), start=1)]
    elsewhere = enrolled("JOKO WIDODO", "PKH", desa=OTHER_DESA)
    people = {e.nik: models.Person.get_by_id(e.nik) for e in rows + [elsewhere]}
    for path in (f"/daftar/{DESA}", f"/daftar/{DESA}/cetak", *(f"/sanggah/{e.id}" for e in rows)):
        html = client.get(path).get_data(as_text=True)
        for person in people.values():
            assert person.nama not in html, path
            for word in person.nama.split():
                if len(word) > 2:
                    assert not re.search(rf"\b{word}\b", html), (path, word)
            assert person.nik not in html and person.no_kk not in html, path
            assert "Kenanga" not in html and "Cempedak" not in html, path
        assert not re.search(r"\d{16}", html), path
    html = client.get(f"/daftar/{DESA}").get_data(as_text=True)
    for nama in NAMES:
        assert models.mask_name(nama) in html
    assert "A***D F***I R****N" in html and "003/011" in html
    assert "PKH" in html and "Pusat" in html and "Kabupaten" in html and "Provinsi" not in html
    assert "J**O" not in html  # another desa's recipient
    assert f'href="/sanggah/{rows[0].id}"' in html


def test_a_name_of_short_words_is_never_shown_whole(client):
    enrolled("AN NA")
    html = client.get(f"/daftar/{DESA}").get_data(as_text=True)
    assert "AN NA" not in html and "A***" in html


def test_rt_rw_from_the_address():
    for alamat, shown in (("Jl. Mawar 1 RT 001 RW 002", "001/002"), ("Dusun Krajan RT.1/RW.12",
                          "001/012"), ("RT/RW 003/004, Jl. Melati", "003/004"),
                          ("Jl. Melati 3", "–"), ("Gang Buntu rt 7", "007/–")):
        assert rt_rw(alamat) == shown


def test_pages_within_the_budget_and_ended_enrolments_leave(client):
    long_name = "MUHAMMADIYAH ABDURRAHMAN WICAKSONO PRAWIRONEGORO"
    rows = [enrolled(f"{long_name} {i:03d}", "DISABILITAS-BWI") for i in range(45)]
    for path in (f"/daftar/{DESA}", f"/daftar/{DESA}/cetak"):
        first = client.get(path)
        html = first.get_data(as_text=True)
        assert len(first.data) + CSS.stat().st_size <= 14_000, (path, len(first.data))
        assert "Halaman 1 dari 2" in html and 'href="?hal=2"' in html
        second = client.get(path + "?hal=2").get_data(as_text=True)
        assert "<td>41<" in second and "<td>45<" in second and "<td>40<" not in second
    models.end_enrolment(rows[0].id, "Meninggal dunia", models.today())
    html = client.get(f"/daftar/{DESA}").get_data(as_text=True)
    assert "44 penerima" in html and f'href="/sanggah/{rows[0].id}"' not in html
    assert client.get(f"/sanggah/{rows[0].id}").status_code == 404


def test_print_sheet_has_an_a4_print_stylesheet(client):
    enrolled()
    html = client.get(f"/daftar/{DESA}/cetak").get_data(as_text=True)
    assert 'class="lembar"' in html and "Daftar Penerima Bantuan Sosial" in html
    assert "/sanggah/" not in html  # paper has no links to follow
    css = CSS.read_text()
    assert "@page lembar{size:A4" in css and "body.lembar{page:lembar" in css


# Objecting ------------------------------------------------------------------------------------

def test_objection_is_received_with_a_code_and_queued(client):
    enrolment = enrolled("BUDI SANTOSO", "PKH")
    form = client.get(f"/sanggah/{enrolment.id}").get_data(as_text=True)
    assert "B**I S*****O" in form and "Program Keluarga Harapan" in form
    for reason in objections.REASONS:
        assert f'value="{reason}"' in form
    response = object_to(client, enrolment, telepon="+62 812-3456-7890")
    assert response.status_code == 303
    objection = objections.Objection.get()
    assert response.location == f"/sanggahan/{objection.kode}?hasil=baru"
    assert re.fullmatch(r"[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}", objection.kode)
    assert (objection.status, objection.alasan, objection.kecamatan_kode) == (
        "menunggu-penilaian", "mampu", "35.10.16")
    assert objection.tenggat == DAY0.date() + datetime.timedelta(days=7)
    objector = objection.objectors.get()
    assert (objector.nama, objector.telepon) == ("WARGA PEDULI", "081234567890")

    page = client.get(response.location).get_data(as_text=True)
    assert "Sanggahan Anda sudah diterima" in page and objection.kode_display in page
    assert "7 hari lagi" in page and "B**I S*****O" in page
    # The objector is never named to the public, not even to themselves on the tracking page.
    assert "WARGA PEDULI" not in page and "0812" not in page
    assert client.get(response.location).headers["Cache-Control"] == "no-store"
    again = client.get(f"/sanggahan/{objection.kode}").get_data(as_text=True)
    assert "Status sanggahan" in again  # the confirmation heading is for the objector only
    # /lacak finds objection codes too, typed loosely.
    found = client.get(f"/lacak?kode={objection.kode[:4].lower()}-{objection.kode[4:]}")
    assert found.status_code == 303 and found.location == f"/sanggahan/{objection.kode}"
    assert client.get("/sanggahan/ZZZZZZZZ").status_code == 404


def test_a_second_objection_attaches_to_the_open_one(client):
    enrolment = enrolled()
    first = submitted(client, enrolment)
    response = object_to(client, enrolment, alasan="pindah", nama="TETANGGA LAIN",
                         telepon="085700001111")
    assert response.location == f"/sanggahan/{first.kode}?hasil=gabung"
    assert "sudah disanggah sebelumnya" in client.get(response.location).get_data(as_text=True)
    objection = objections.Objection.get_by_id(first.id)
    assert objection.jumlah_penyanggah == 2 and objections.Objection.select().count() == 1
    assert [o.alasan for o in objection.objectors.order_by(objections.Objector.id)] == [
        "mampu", "pindah"]


@pytest.mark.parametrize("changes, message", [
    ({"alasan": ""}, "Pilih alasan sanggahan."),
    ({"alasan": "benci"}, "Pilih alasan sanggahan."),
    ({"nama": " "}, "Isi nama Anda."),
    ({"telepon": ""}, "Isi nomor HP Anda"),
    ({"telepon": "08abc"}, "Nomor HP hanya boleh berisi angka"),
    ({"keterangan": "x" * 501}, "Penjelasan paling banyak 500 karakter; yang diisi 501"),
    ({"alasan": "lainnya", "keterangan": ""}, "Untuk alasan lain, jelaskan alasannya."),
])
def test_bad_objections_store_nothing(client, changes, message):
    enrolment = enrolled()
    response = object_to(client, enrolment, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="galat-ringkas"' in html
    assert html.count(message) == 2  # in the summary and beside the field
    assert objections.Objection.select().count() == 0
    assert objections.Objector.select().count() == 0


def test_exactly_500_characters_are_accepted(client):
    objection = submitted(client, enrolled(), keterangan="y" * 500)
    assert len(objection.objectors.get().keterangan) == 500


def test_only_listed_recipients_can_be_objected_to(client):
    enrolment = enrolled()
    models.end_enrolment(enrolment.id, "Pindah ke luar kabupaten", models.today())
    assert client.get(f"/sanggah/{enrolment.id}").status_code == 404
    assert object_to(client, enrolment).status_code == 404
    assert client.get("/sanggah/999999").status_code == 404
    assert objections.Objection.select().count() == 0


def test_objections_per_phone_per_day(client, app):
    app.config["SANGGAH_PER_HARI"] = 2
    people = [enrolled(f"WARGA KE {i}") for i in range(4)]
    submitted(client, people[0], telepon="081234567890")
    submitted(client, people[1], telepon="+62 812 3456 7890")  # the same number, written otherwise
    response = object_to(client, people[2], telepon="6281234567890")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Satu nomor HP hanya boleh mengirim 2 sanggahan per hari." in html
    assert objections.Objection.select().count() == 2
    submitted(client, people[2], telepon="085799990000")  # another number is fine
    # The count is kept in the transaction: a refused objection does not use up the quota,
    # and a new WIB day starts afresh.
    with time_machine.travel(DAY0 + datetime.timedelta(days=1), tick=False):
        submitted(client, people[3], telepon="081234567890")
    assert objections.DailyQuota.select().count() == 1  # yesterday's counts are deleted


def test_quota_in_the_model_holds_without_the_web_form(app):
    enrolment = enrolled()
    objector = {"alasan": "ganda", "keterangan": "", "nama": "A", "telepon": "0811111111"}
    objections.submit_objection(enrolment.id, objector, per_day=1)
    with pytest.raises(objections.QuotaExceeded):
        objections.submit_objection(enrolled("ORANG LAIN").id, objector, per_day=1)
    assert objections.Objector.select().count() == 1


def test_rate_limit_per_address(client, app):
    app.config["RATELIMIT_SANGGAH"] = "2 per hour"
    people = [enrolled(f"WARGA KE {i}") for i in range(3)]
    for i, person in enumerate(people[:2]):
        submitted(client, person, telepon=f"08120000000{i}")
    response = object_to(client, people[2], telepon="081200000009")
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert objections.Objection.select().count() == 2
    # Another address may still object; reading the lists is never limited.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert submitted(other, people[2], telepon="081200000009") is not None
    assert client.get(f"/daftar/{DESA}").status_code == 200


def test_no_limit_for_everyone_at_once(client, app):
    """Objections from many addresses never spend a quota the next resident needs."""
    app.config["RATELIMIT_SANGGAH"] = "1 per hour"
    people = [enrolled(f"WARGA KE {i}") for i in range(6)]
    for i, person in enumerate(people):
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = f"10.0.1.{i + 1}"
        assert submitted(other, person, telepon=f"08570000000{i}") is not None


def test_works_without_javascript(client):
    enrolment = enrolled()
    form = client.get(f"/sanggah/{enrolment.id}").get_data(as_text=True)
    assert f'<form method="post" action="/sanggah/{enrolment.id}"' in form
    assert "hx-" not in form[form.index("<main"):]
    assert 'name="csrf_token"' not in form  # anyone may object, without a session
    # From another site nothing is stored.
    response = client.post(f"/sanggah/{enrolment.id}", data={
        "alasan": "mampu", "nama": "A", "telepon": "081234567890"},
        headers={"Origin": "https://jahat.example"})
    assert response.status_code == 403 and objections.Objection.select().count() == 0


def test_every_public_page_within_the_budget(client):
    enrolment = enrolled()
    objection = submitted(client, enrolment)
    failed = object_to(client, enrolled("ORANG KEDUA"), alasan="", nama="", telepon="x" * 20,
                       keterangan="z" * 600)
    pages = [client.get(p) for p in ("/daftar", "/daftar/35.10.16", f"/sanggah/{enrolment.id}",
                                     f"/sanggahan/{objection.kode}")] + [failed]
    for response in pages:
        assert response.status_code == 200
        assert len(response.data) + CSS.stat().st_size <= 14_000, response.request.path
