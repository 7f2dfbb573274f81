"""Objections at the reviewer's desk: the queue with reports by days left, keep or end, scope,
and the register's rules after an enrolment ends."""
from __future__ import annotations

import datetime
import re

import pytest
import time_machine

import models
from cases import casework, objections
from tests.conftest import DESA, add_person, csrf_token, login, new_nik

DAY0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=models.WIB)
OTHER_DESA = "35.10.01.2001"  # Sarongan, kecamatan Pesanggaran (35.10.01)
ROW = re.compile(r'<tr data-kode="([^"]+)" data-sisa-hari="(-?\d+)" data-status="([^"]+)"'
                 r'( class="terlambat")?')
_cards = iter(range(1, 99999))


def at(days: float, hour: int = 9):
    return time_machine.travel(DAY0.replace(hour=hour) + datetime.timedelta(days=days),
                               tick=False)


@pytest.fixture(autouse=True)
def clock(app):
    from extensions import limiter

    # Reviewers are followed across days; the session timeouts are tested in test_security.py.
    app.config.update(SESSION_IDLE_MINUTES=10**7, SESSION_MAX_HOURS=10**6)
    limiter.reset()
    with time_machine.travel(DAY0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def reviewer(client, make_user):
    user = make_user("verif", "verifikator")
    login(client, "verif")
    return user


def enrolled(nama="SITI WAHYUNI", scheme="RANTANG-KASIH", desa=DESA, no_kk=None, sejak=None):
    nik = add_person(nik=new_nik(), nama=nama, desa=desa,
                     no_kk=no_kk or f"35101601013{next(_cards):05d}")
    return models.enrol(nik, scheme, sumber="impor:tes",
                        sejak=sejak or datetime.date(2026, 1, 1))


def objection(enrolment, alasan="mampu", telepon="081234567890"):
    found, outcome = objections.submit_objection(
        enrolment.id, {"alasan": alasan, "keterangan": "Rumahnya bertingkat.",
                       "nama": "PENYANGGAH RAHASIA", "telepon": telepon}, per_day=100)
    return found


def report(nama="BUDI SANTOSO", desa=DESA):
    subject = {"nik": new_nik(), "nama": nama, "no_kk": None, "alamat": "Jl. Kenanga 3",
               "desa": desa, "kategori": "kehilangan-penghasilan", "keterangan": ""}
    reporter = {"hubungan": "orang-lain", "nama": "TETANGGA", "nik": None, "telepon": None}
    made, outcome = casework.submit_report(subject, reporter)
    assert outcome == "baru"
    return made


def queue_rows(client, query=""):
    response = client.get("/verifikasi" + query)
    assert response.status_code == 200
    return [(kode, int(days), status) for kode, days, status, _late in
            ROW.findall(response.get_data(as_text=True))]


def decide(client, kode, data, headers=None):
    data = dict(data, csrf_token=csrf_token(client, "/masuk"))
    return client.post(f"/verifikasi/sanggahan/{kode}/putusan", data=data,
                       headers=headers or {})


# The queue ------------------------------------------------------------------------------------

def test_queue_orders_objections_with_reports_by_days_left(client, reviewer):
    with at(0, hour=8):
        r1 = report("ANI")
    with at(0, hour=10):
        s1 = objection(enrolled("BAYU"))
    with at(1):
        r2 = report("CICI")
    with at(2, hour=6):
        s2 = objection(enrolled("DEDI"))
    with at(2, hour=7):
        r3 = report("EKO")
    expected = {0: [(r1, 7), (s1, 7), (r2, 8), (s2, 9), (r3, 9)],
                8: [(r1, -1), (s1, -1), (r2, 0), (s2, 1), (r3, 1)],
                12: [(r1, -5), (s1, -5), (r2, -4), (s2, -3), (r3, -3)]}
    for day, cases in expected.items():
        with at(day, hour=20):
            rows = queue_rows(client)
        assert [(kode, n) for kode, n, _ in rows] == [(c.kode, n) for c, n in cases], day
    kinds = {kode: status for kode, _, status in rows}
    assert kinds[s1.kode] == kinds[s2.kode] == "sanggahan"
    with at(12, hour=21):  # later, never earlier: a session cookie from the future is invalid
        html = client.get("/verifikasi").get_data(as_text=True)
        assert "5 kasus terbuka" in html and "5 terlambat" in html
        assert html.count(">Sanggahan</span>") == 2
        assert f'href="/verifikasi/sanggahan/{s1.kode}"' in html
        # The stage filter: objections alone, or none of them.
        assert [r[0] for r in queue_rows(client, "?tahap=sanggahan")] == [s1.kode, s2.kode]
        assert [r[0] for r in queue_rows(client, "?tahap=menunggu-penilaian")] == [
            r1.kode, r2.kode, r3.kode]
        assert queue_rows(client, "?tahap=layak") == []
        # A decided objection leaves the queue.
        assert decide(client, s1.kode, {"putusan": "pertahankan"}).status_code == 303
        assert s1.kode not in [r[0] for r in queue_rows(client)]


def test_merged_queue_pages_in_one_order(client, reviewer, monkeypatch):
    import views.review

    monkeypatch.setattr(views.review, "PAGE_SIZE", 2)
    cases = []
    for i in range(3):
        with at(i, hour=8):
            cases.append(report(f"WARGA {i}"))
        with at(i, hour=9):
            cases.append(objection(enrolled(f"PENERIMA {i}")))
    with at(1):
        pages = [queue_rows(client, f"?hal={n}") for n in (1, 2, 3)]
        html = client.get("/verifikasi?hal=2").get_data(as_text=True)
    assert [r[0] for page in pages for r in page] == [c.kode for c in cases]
    assert "Halaman 2 dari 3" in html
    with at(1):
        only = queue_rows(client, "?tahap=sanggahan&hal=2")
    assert [r[0] for r in only] == [cases[5].kode]


def test_stage_filter_with_no_objections_shows_none(client, reviewer):
    report()
    assert queue_rows(client, "?tahap=sanggahan") == []


# Scope and access -----------------------------------------------------------------------------

def test_scoped_verifikator_sees_only_objections_of_its_kecamatan(client, make_user):
    here = objection(enrolled("DI SINI"))
    there = objection(enrolled("DI SANA", desa=OTHER_DESA))
    make_user("verif-kec", "verifikator", kantor="35.10.16")
    login(client, "verif-kec")
    assert [r[0] for r in queue_rows(client)] == [here.kode]
    assert [r[0] for r in queue_rows(client, "?kecamatan=35.10.01")] == [here.kode]
    for path in (f"/verifikasi/sanggahan/{there.kode}", f"/verifikasi/{there.kode}"):
        assert client.get(path).status_code == 404
    response = decide(client, there.kode, {"putusan": "akhiri", "alasan": "mampu"})
    assert response.status_code == 404
    assert objections.Objection.get_by_id(there.id).status == "menunggu-penilaian"
    assert models.Enrolment.get_by_id(there.kepesertaan_id).berakhir is None
    assert client.get(f"/verifikasi/sanggahan/{here.kode_display}").status_code == 200
    # The reviewer's case URL finds objection codes too.
    assert client.get(f"/verifikasi/{here.kode}").status_code == 200


def test_anonymous_and_petugas_are_kept_out(client, make_user):
    found = objection(enrolled())
    response = client.get(f"/verifikasi/sanggahan/{found.kode}")
    assert response.status_code == 302 and "/masuk" in response.location
    make_user("kios", "petugas")
    login(client, "kios")
    assert client.get(f"/verifikasi/sanggahan/{found.kode}").status_code == 403
    assert decide(client, found.kode, {"putusan": "akhiri", "alasan": "mampu"}).status_code == 403
    assert objections.Objection.get_by_id(found.id).status == "menunggu-penilaian"


def test_objector_identity_is_for_staff_only(client, reviewer):
    enrolment = enrolled("SUTRISNO")
    found = objection(enrolment, telepon="085711112222")
    staff = client.get(f"/verifikasi/sanggahan/{found.kode}").get_data(as_text=True)
    assert "PENYANGGAH RAHASIA" in staff and "085711112222" in staff
    assert "SUTRISNO" in staff and enrolment.nik in staff  # the recipient's full record
    public = client.application.test_client()
    for path in (f"/sanggahan/{found.kode}", f"/daftar/{DESA}", f"/sanggah/{enrolment.id}"):
        html = public.get(path).get_data(as_text=True)
        assert "PENYANGGAH" not in html and "085711112222" not in html, path
        assert "SUTRISNO" not in html and enrolment.nik not in html, path


def test_objection_text_is_escaped_for_reviewers(client, reviewer):
    found, _ = objections.submit_objection(
        enrolled().id, {"alasan": "lainnya", "keterangan": "<script>alert(1)</script>",
                        "nama": "<b>X</b>", "telepon": "081200000000"})
    html = client.get(f"/verifikasi/sanggahan/{found.kode}").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html and "<b>X</b>" not in html


# Decisions ------------------------------------------------------------------------------------

def test_keep_leaves_the_enrolment_and_a_second_decision_fails(client, reviewer):
    enrolment = enrolled()
    found = objection(enrolment)
    response = decide(client, found.kode, {"putusan": "pertahankan", "catatan": "Dicek RT."})
    assert response.status_code == 303
    assert response.location == f"/verifikasi/sanggahan/{found.kode}"
    kept = objections.Objection.get_by_id(found.id)
    assert (kept.status, kept.diputus_oleh_id, kept.tenggat) == ("dipertahankan", reviewer.id,
                                                                 None)
    assert models.Enrolment.get_by_id(enrolment.id).berakhir is None
    assert "Putusan tersimpan" in client.get(response.location).get_data(as_text=True)
    response = decide(client, found.kode, {"putusan": "akhiri", "alasan": "mampu"})
    assert response.status_code == 409 and "sudah diputus petugas lain" in response.get_data(
        as_text=True)
    assert models.Enrolment.get_by_id(enrolment.id).berakhir is None
    public = client.application.test_client().get(f"/sanggahan/{found.kode}")
    assert "tetap terdaftar" in public.get_data(as_text=True)
    assert "Dicek RT." not in public.get_data(as_text=True)  # the reviewer's note stays inside


def test_end_closes_the_enrolment_with_the_reason_and_keeps_history(client, reviewer):
    enrolment = enrolled("BUDI SANTOSO", "PKH")
    found = objection(enrolment, alasan="meninggal")
    died = DAY0.date() - datetime.timedelta(days=20)
    response = decide(client, found.kode, {"putusan": "akhiri", "alasan": "meninggal",
                                           "tanggal": died.strftime("%d-%m-%Y")})
    assert response.status_code == 303
    ended = models.Enrolment.get_by_id(enrolment.id)
    assert ended.berakhir == died and ended.diakhiri_oleh_id == reviewer.id
    assert ended.alasan_berakhir == f"Sudah meninggal dunia (sanggahan {found.kode_display})"
    closed = objections.Objection.get_by_id(found.id)
    assert (closed.status, closed.alasan_berakhir, closed.tanggal_berakhir) == (
        "diakhiri", "meninggal", died)
    assert models.Enrolment.select().count() == 1  # history kept, nothing deleted
    assert models.covering(enrolment.nik).status == "belum-terdaftar"
    public = client.application.test_client()
    page = public.get(f"/sanggahan/{found.kode}").get_data(as_text=True)
    assert "diakhiri" in page and "Sudah meninggal dunia" in page
    assert "B**I S*****O" not in public.get(f"/daftar/{DESA}").get_data(as_text=True)
    events = [e.status for e in closed.events.order_by(objections.ObjectionEvent.id)]
    assert events == ["diterima", "menunggu-penilaian", "diakhiri"]
    from office.audit import AuditEntry  # the ended enrolment is in the audit log, no NIK
    entry = AuditEntry.get(AuditEntry.action == "kepesertaan.akhiri")
    assert entry.actor == reviewer.username and found.kode in entry.subject
    assert "PKH: meninggal" in entry.subject and enrolment.nik not in entry.subject


@pytest.mark.parametrize("data, message, status", [
    ({}, "Pilih putusan", 422),
    ({"putusan": "akhiri", "alasan": ""}, "Pilih alasan kepesertaan diakhiri.", 422),
    ({"putusan": "akhiri", "alasan": "lainnya"}, "tulis penjelasannya", 422),
    ({"putusan": "akhiri", "alasan": "mampu", "tanggal": "2026-03-03"},
     "tidak boleh di masa depan", 422),
    ({"putusan": "akhiri", "alasan": "mampu", "tanggal": "2025-12-31"},
     "tidak boleh sebelum kepesertaan dimulai (1 Januari 2026)", 422),
    ({"putusan": "akhiri", "alasan": "mampu", "tanggal": "kemarin"}, "tidak dapat dibaca", 422),
])
def test_bad_decisions_change_nothing(client, reviewer, data, message, status):
    enrolment = enrolled()
    found = objection(enrolment)
    response = decide(client, found.kode, data)
    assert response.status_code == status and message in response.get_data(as_text=True)
    assert objections.Objection.get_by_id(found.id).status == "menunggu-penilaian"
    assert models.Enrolment.get_by_id(enrolment.id).berakhir is None


def test_decision_answers_htmx_with_the_updated_case(client, reviewer):
    found = objection(enrolled())
    response = decide(client, found.kode, {"putusan": "akhiri", "alasan": "pindah"},
                      {"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="kasus"')
    assert 'data-status="diakhiri"' in body and "Putusan tersimpan" in body
    again = decide(client, found.kode, {"putusan": "pertahankan"}, {"HX-Request": "true"})
    assert again.status_code == 200 and "sudah diputus petugas lain" in again.get_data(
        as_text=True)


def test_enrolment_ended_meanwhile_by_the_admin(client, reviewer):
    enrolment = enrolled()
    found = objection(enrolment)
    models.end_enrolment(enrolment.id, "Pindah ke Jember", DAY0.date())
    response = decide(client, found.kode, {"putusan": "pertahankan"})
    assert response.status_code == 409 and "sudah berakhir" in response.get_data(as_text=True)
    assert decide(client, found.kode, {"putusan": "akhiri", "alasan": "pindah"}).status_code == 303
    ended = models.Enrolment.get_by_id(enrolment.id)
    assert ended.alasan_berakhir == "Pindah ke Jember"  # not ended twice
    assert objections.Objection.get_by_id(found.id).status == "diakhiri"


# The register's rules still hold --------------------------------------------------------------

def test_one_scheme_per_nik_before_and_after_ending(client, reviewer):
    enrolment = enrolled(scheme="RANTANG-KASIH")
    found = objection(enrolment, alasan="ganda")
    with pytest.raises(models.RegisterError):
        models.enrol(enrolment.nik, "DISABILITAS-BWI", sumber="tes")
    assert decide(client, found.kode, {"putusan": "pertahankan"}).status_code == 303
    with pytest.raises(models.RegisterError):
        models.enrol(enrolment.nik, "DISABILITAS-BWI", sumber="tes")  # kept: still enrolled

    second = objection(enrolment, alasan="ganda", telepon="085700000001")
    assert second.id != found.id  # the first was closed, so a new case opens
    assert decide(client, second.kode, {"putusan": "akhiri", "alasan": "ganda"}).status_code == 303
    again = models.enrol(enrolment.nik, "DISABILITAS-BWI", sumber="tes")  # now free
    assert models.covering(enrolment.nik).skema == "DISABILITAS-BWI"
    with pytest.raises(models.RegisterError):
        models.enrol(enrolment.nik, "RANTANG-KASIH", sumber="tes")
    assert [e.berakhir is None for e in models.Enrolment.select().where(
        models.Enrolment.person == enrolment.nik).order_by(models.Enrolment.id)] == [False, True]
    assert again.id != enrolment.id


def test_family_rule_before_and_after_ending(client, reviewer):
    card = "3510160101209999"
    enrolment = enrolled("BAPAK KELUARGA", "PKH", no_kk=card)
    child = add_person(nik=new_nik(birth=datetime.date(2001, 1, 1)), no_kk=card,
                       nama="ANAK KELUARGA")
    found = objection(enrolment, alasan="mampu")
    with pytest.raises(models.RegisterError, match="Keluarga"):
        models.enrol(child, "RANTANG-KASIH", sumber="tes")
    assert models.covering(child).status == "keluarga-terdaftar"
    assert decide(client, found.kode, {"putusan": "akhiri", "alasan": "mampu"}).status_code == 303
    assert models.covering(child).status == "belum-terdaftar"
    # A report about the child is no longer rejected at once, and the family may be enrolled.
    made, outcome = casework.submit_report(
        {"nik": child, "nama": "ANAK KELUARGA", "no_kk": card, "alamat": "Jl. Kenanga 3",
         "desa": DESA, "kategori": "kehilangan-penghasilan", "keterangan": ""},
        {"hubungan": "orang-lain", "nama": "T", "nik": None, "telepon": None})
    assert outcome == "baru"
    models.enrol(child, "SEMBAKO-BWI", sumber="tes")
    with pytest.raises(models.RegisterError):
        models.enrol(enrolment.nik, "BPNT", sumber="tes")  # the family is covered again


def test_end_enrolment_rule():
    enrolment = enrolled(sejak=datetime.date(2026, 2, 1))
    today = models.today()
    for day, message in ((today + datetime.timedelta(days=1), "masa depan"),
                         (datetime.date(2026, 1, 31), "sebelum kepesertaan dimulai")):
        with pytest.raises(models.RegisterError, match=message):
            models.end_enrolment(enrolment.id, "Mampu", day)
    with pytest.raises(models.RegisterError, match="alasan"):
        models.end_enrolment(enrolment.id, "  ", today)
    models.end_enrolment(enrolment.id, "Mampu", today)
    with pytest.raises(models.RegisterError, match="sudah berakhir"):
        models.end_enrolment(enrolment.id, "Mampu", today)
    with pytest.raises(models.RegisterError, match="tidak ditemukan"):
        models.end_enrolment(999999, "Mampu", today)


# At the same moment, in separate processes ----------------------------------------------------

def _object(enrolment_id, phone, per_day):
    found, outcome = objections.submit_objection(
        enrolment_id, {"alasan": "mampu", "keterangan": "", "nama": "P", "telepon": phone},
        per_day=per_day)
    return found.kode, outcome


def _decide_objection(kode, user_id, putusan):
    found, user = objections.Objection.by_code(kode), models.User.get_by_id(user_id)
    if putusan == "akhiri":
        return objections.end(found, user, "mampu").status
    return objections.keep(found, user).status


@pytest.fixture
def url(app, database_url):
    models.db.close()  # the workers open their own connections
    yield database_url
    models.db.connect(reuse_if_open=True)


def test_simultaneous_objections_respect_the_daily_quota_and_make_one_case(url):
    from tests.test_concurrency import _race

    models.db.connect(reuse_if_open=True)
    one = enrolled()
    others = [enrolled(f"WARGA {i}") for i in range(8)]
    models.db.close()
    same_phone = _race(url, [(_object, (e.id, "081200000000", 3)) for e in others])
    assert sum(o[0] == "ok" for o in same_phone) == 3, same_phone
    assert all("3 sanggahan per hari" in o[1] for o in same_phone if o[0] != "ok")
    same_recipient = _race(url, [(_object, (one.id, f"08130000000{i}", 3)) for i in range(8)])
    assert all(o[0] == "ok" for o in same_recipient), same_recipient
    assert len({o[1][0] for o in same_recipient}) == 1  # one case, one code for all
    models.db.connect(reuse_if_open=True)
    case = objections.Objection.get(objections.Objection.kepesertaan_id == one.id)
    assert case.jumlah_penyanggah == 8 and case.objectors.count() == 8
    models.db.close()


def test_simultaneous_decisions_make_one(url, make_user):
    models.db.connect(reuse_if_open=True)
    enrolment = enrolled()
    found = objection(enrolment)
    users = [make_user(f"verif{i}").id for i in range(8)]
    models.db.close()
    outcomes = _race_decisions(url, found.kode, users)
    assert sum(o[0] == "ok" for o in outcomes) == 1, outcomes
    models.db.connect(reuse_if_open=True)
    decided = objections.Objection.get_by_id(found.id)
    ended = models.Enrolment.get_by_id(enrolment.id).berakhir is not None
    assert ended == (decided.status == "diakhiri")
    assert decided.events.where(objections.ObjectionEvent.status != "menunggu-penilaian",
                                objections.ObjectionEvent.status != "diterima").count() == 1
    models.db.close()


def _race_decisions(url, kode, users):
    from tests.test_concurrency import _race

    return _race(url, [(_decide_objection, (kode, uid, "akhiri" if i % 2 else "pertahankan"))
                       for i, uid in enumerate(users)])


def test_merged_pages_match_one_full_sort(app):
    """Every page size and depth gives exactly the slice of one sort of both kinds."""
    import random

    rng = random.Random(4)
    for i in range(40):
        with at(rng.randint(0, 9), hour=rng.randint(7, 20)):
            if rng.random() < 0.35:
                objection(enrolled(f"PENERIMA {i}"), telepon=f"0812{i:08d}")
            else:
                report(f"WARGA {i}")
    whole = sorted([(r.tenggat, r.created_at, "L", r.id) for r in models.Report.select()] +
                   [(o.tenggat, o.created_at, "S", o.id) for o in objections.Objection.select()])
    everything = [(kind, pk) for *_, kind, pk in whole]
    with at(10):
        for limit in (1, 2, 3, 5, 8, 50):
            for offset in range(0, 45, limit):
                page = objections.merged_queue(None, None, offset, limit)
                assert page == everything[offset:offset + limit], (limit, offset)


def test_retention_blanks_objectors_of_decided_objections(client, reviewer):
    decided, still_open = objection(enrolled("SATU")), objection(enrolled("DUA"))
    assert decide(client, decided.kode, {"putusan": "pertahankan",
                                         "catatan": "Kata Pak RT aman."}).status_code == 303
    assert objections.anonymise(DAY0.date()) == 0  # decided today: not yet
    assert objections.anonymise(DAY0.date() + datetime.timedelta(days=1)) == 1
    blank = objections.Objection.get_by_id(decided.id)
    assert blank.catatan == "" and blank.status == "dipertahankan"
    assert [(o.nama, o.telepon, o.keterangan) for o in blank.objectors] == [("", "", "")]
    assert still_open.objectors.get().nama == "PENYANGGAH RAHASIA"
