"""SMS commands as a resident types them: CEK <NIK>, LACAK <KODE>, BANTUAN and anything else.

Every answer of the check is the web's (same covering rule, same statuses, masked names), every
reply fits one GSM-7 message or is split into numbered parts, no reply holds a NIK or a full
name, and the limits are the web's, per sending number.
"""
from __future__ import annotations

import datetime

import pytest
import time_machine

import models
from cases import casework, objections
from formats import long_date as _date
from nik import NikError, parse_nik
from sms import answers, gsm7
from tests.conftest import DESA, add_person, new_nik
from tests.sms_support import SENDER, assert_private
from web import sms_desk

OFFICE = "(0333) 424 000"


@pytest.fixture
def desk(app):
    app.config["SMS_OFFICE_PHONE"] = OFFICE
    return sms_desk.desk()


def ask(desk, text, sender=SENDER):
    return answers.answer(desk, sender, text)


@pytest.mark.parametrize("text, command, words", [
    ("CEK 3510161705800001", "cek", ["3510161705800001"]),
    ("cek 3510161705800001", "cek", ["3510161705800001"]),
    ("  Cek:  3510 1617-0580.0001 !", "cek", ["3510", "1617", "0580", "0001"]),
    ("CEK3510161705800001", "cek", ["3510161705800001"]),
    ("cek nik 3510161705800001", "cek", ["NIK", "3510161705800001"]),
    ("CEKNIK#3510161705800001", "cek", ["NIK", "3510161705800001"]),
    ("3510161705800001", "cek", ["3510161705800001"]),
    ("3510 1617 0580 0001", "cek", ["3510", "1617", "0580", "0001"]),
    ("lacak abcd-2345", "lacak", ["ABCD", "2345"]),
    ("LACAK: ABCD 2345.", "lacak", ["ABCD", "2345"]),
    ("LacakABCD2345", "lacak", ["ABCD", "2345"]),
    ("Lacak kode ABCD2345", "lacak", ["KODE", "ABCD", "2345"]),
    ("BANTUAN", "bantuan", []),
    ("bantuan?", "bantuan", []),
    ("help", "bantuan", []),
    ("halo pak, saya mau tanya", "", ["HALO", "PAK", "SAYA", "MAU", "TANYA"]),
    ("", "", []),
    ("12345", "", ["12345"]),
])
def test_commands_are_read_as_people_type_them(text, command, words):
    assert answers.parse(text) == (command, words)


def registered_family():
    """A family on PKH (one card), a relative on it, and someone on nothing."""
    enrolled = add_person(nama="SITI WAHYUNI", no_kk="3510160101200001")
    models.enrol(enrolled, "PKH", sumber="tes")
    relative = add_person(nama="BUDI SANTOSO", no_kk="3510160101200001")
    alone = add_person(nama="SLAMET RIYADI", no_kk="3510160101200002")
    return enrolled, relative, alone


def test_every_check_status_is_the_webs(desk, client):
    enrolled, relative, alone = registered_family()
    unknown = new_nik()
    expected = {
        enrolled: ("terdaftar", "Cek Bansos: S**I W*****I, Pakis: terdaftar di Program Keluarga "
                                "Harapan (PKH), bantuan tingkat Pusat."),
        relative: ("keluarga-terdaftar", "keluarganya (No. KK sama) terdaftar di"),
        alone: ("belum-terdaftar", "Cek Bansos: S****T R****I, Pakis, belum terdaftar sebagai "
                                   "penerima bansos."),
        unknown: ("belum-terdaftar", "Cek Bansos: NIK ini belum terdaftar sebagai penerima"),
    }
    people = [(enrolled, "SITI WAHYUNI"), (relative, "BUDI SANTOSO"), (alone, "SLAMET RIYADI")]
    for nik, (status, words) in expected.items():
        web = client.post("/cek", data={"nik": nik}).get_data(as_text=True)
        assert f'data-status="{status}"' in web
        reply = ask(desk, f"CEK {nik}")
        assert reply.outcome == "dijawab" and len(reply.parts) == 1
        assert words in reply.parts[0]
        assert_private(reply.parts[0], *people)
    assert "B**I S*****O" in ask(desk, f"cek {relative}").parts[0]


@pytest.mark.parametrize("typed", [
    "351016170580001",  # 15 digits
    "35101617058000011",  # 17 digits
    "9910161705800001",  # no such province
    "3510163205800001",  # day 32
    "3510161713800001",  # month 13
    "3510163102800001",  # 31 February
    "3510161705800000",  # serial 0000
])
def test_a_nik_that_cannot_be_valid_gets_the_precise_message(desk, typed):
    with pytest.raises(NikError) as error:
        parse_nik(typed)
    reply = ask(desk, f"CEK {typed}")
    assert reply.outcome == "nik-tidak-valid"
    assert reply.parts == [gsm7.transliterate(f"NIK tidak valid. {error.value}")]
    assert_private(reply.parts[0])


def test_cek_without_a_nik_says_how(desk):
    for text in ("CEK", "cek nik", "CEK saya"):
        reply = ask(desk, text)
        assert reply.outcome == "nik-tidak-valid"
        assert reply.parts[0].startswith("Ketik CEK, spasi, lalu NIK 16 angka")


def submit(nik=None, nama="WARGA LAPOR", no_kk=None):
    subject = {"nik": nik or new_nik(), "nama": nama, "no_kk": no_kk,
               "alamat": "Jl. Kenanga 3", "desa": DESA, "kategori": "kehilangan-penghasilan",
               "keterangan": ""}
    reporter = {"hubungan": "orang-lain", "nama": "TETANGGA", "nik": None, "telepon": None}
    return casework.submit_report(subject, reporter)[0]


def test_lacak_gives_every_status_and_its_due_date(desk, make_user):
    reviewer = make_user()
    waiting = submit(nama="AGUS SALIM")
    reply = ask(desk, f"lacak {waiting.kode[:4].lower()}-{waiting.kode[4:].lower()}")
    assert reply.outcome == "dijawab"
    assert reply.parts == [f"Laporan {waiting.kode_display} (A**S S***M): menunggu penilaian "
                           f"tim, paling lambat {_date(waiting.tenggat)} (sisa 7 hari)."]
    eligible = casework.decide_eligible(submit(), "DISABILITAS-BWI", reviewer)
    reply = ask(desk, f"LACAK {eligible.kode}").parts[0]
    assert "layak, didaftarkan di DISABILITAS-BWI" in reply
    assert f"paling lambat {_date(eligible.tenggat)}" in reply
    refused = casework.decide_ineligible(submit(), "mampu", reviewer)
    assert "tidak layak. Alasan: Keluarga dinilai mampu." in ask(
        desk, f"LACAK {refused.kode}").parts[0]
    delivered = casework.record_delivery(
        casework.decide_eligible(submit(), "DISABILITAS-BWI", reviewer), reviewer)
    assert f"bantuan sudah diserahkan {_date(delivered.tanggal_salur)}" in ask(
        desk, f"LACAK {delivered.kode}").parts[0]
    enrolled, _, _ = registered_family()
    rejected = submit(nik=enrolled, nama="SITI WAHYUNI")
    assert "ditolak otomatis, orangnya sudah terdaftar di PKH" in ask(
        desk, f"LACAK {rejected.kode}").parts[0]
    for report in (waiting, eligible, refused, delivered, rejected):
        for part in ask(desk, f"LACAK {report.kode}").parts:
            assert_private(part, (report.nik, report.nama))


def test_lacak_follows_an_objection_without_naming_anyone(desk, make_user):
    nik = add_person(nama="KAYA RAYA SEKALI")
    enrolment = models.enrol(nik, "PKH", sumber="tes")
    objection, _ = objections.submit_objection(
        enrolment.id, {"alasan": "mampu", "keterangan": "", "nama": "TETANGGA JUJUR",
                       "telepon": "081298765432"})
    reply = ask(desk, f"LACAK {objection.kode}").parts[0]
    assert reply.startswith(f"Sanggahan {objection.kode_display}: menunggu penilaian tim")
    objections.keep(objection, make_user(), "")
    assert "penerima tetap terdaftar" in ask(desk, f"LACAK {objection.kode}").parts[0]
    assert_private(reply, (nik, "KAYA RAYA SEKALI"), ("", "TETANGGA JUJUR"))


def test_an_unknown_code_is_never_echoed(desk):
    for text in ("LACAK ZZZZ-ZZZZ", "lacak 3510161705800001", "LACAK abc"):
        reply = ask(desk, text)
        assert reply.outcome == "kode-tidak-ada"
        assert reply.parts[0].startswith("Kode laporan tidak ditemukan.")
        assert "3510" not in reply.parts[0] and "ZZZZ" not in reply.parts[0]
    assert ask(desk, "LACAK").parts[0].startswith("Ketik LACAK, spasi, lalu kode laporan")


def test_help_and_anything_unknown_name_the_commands_and_the_office(desk):
    for text, outcome in (("BANTUAN", "dijawab"), ("info", "dijawab"),
                          ("selamat pagi", "tidak-dikenal"), ("", "tidak-dikenal")):
        reply = ask(desk, text)
        assert reply.outcome == outcome
        assert "CEK" in reply.parts[0] and "LACAK" in reply.parts[0]
        assert OFFICE in reply.parts[0]
        assert_private(reply.parts[0])


def test_only_indonesian_mobile_numbers_are_answered(desk):
    for sender in ("TELKOMSEL", "3636", "+60123456789", "+62215551234", ""):
        reply = ask(desk, "BANTUAN", sender=sender)
        assert reply == answers.Answer("bantuan", "bukan-nomor-hp", [])
    assert ask(desk, "BANTUAN", sender="081234567890").parts


def test_checks_count_against_the_webs_coverage_allowance_per_number(app, desk):
    app.config["RATELIMIT_CAKUPAN"] = "3 per minute"
    nik = registered_family()[0]
    outcomes = [ask(desk, f"CEK {nik}").outcome for _ in range(4)]
    assert outcomes == ["dijawab"] * 3 + ["batas-cek"]
    limited = ask(desk, f"CEK {nik}", sender="0812-3456-7890")  # the same number, written
    assert limited.outcome == "batas-cek"                      # another way
    assert limited.parts[0].startswith("Terlalu banyak pengecekan NIK dari nomor ini.")
    assert "sekitar 1 menit" in limited.parts[0]
    # A mistyped NIK answers nothing about the register: it does not count.
    assert ask(desk, "CEK 123").outcome == "nik-tidak-valid"
    # Another number has its own allowance, as another address has on the web.
    assert ask(desk, f"CEK {nik}", sender="+6285700000001").outcome == "dijawab"


def test_replies_per_number_have_a_ceiling(app, desk):
    app.config["RATELIMIT_SMS"] = "5 per hour"
    outcomes = [ask(desk, "BANTUAN").outcome for _ in range(6)]
    assert outcomes == ["dijawab"] * 5 + ["batas-balasan"]
    assert ask(desk, "BANTUAN").parts == []
    assert ask(desk, "BANTUAN", sender="+6285700000001").parts


def test_a_reply_too_long_for_one_message_is_split_and_numbered(desk):
    name = " ".join(["PANJANGSEKALI"] * 10)
    nik = add_person(nama=name)
    models.enrol(nik, "BKK-JATIM", sumber="tes")
    parts = ask(desk, f"CEK {nik}").parts
    assert len(parts) >= 2
    assert [p[:5] for p in parts] == [f"({i}/{len(parts)})" for i in range(1, len(parts) + 1)]
    for part in parts:
        assert_private(part, (nik, name))


def test_gsm7_texts_are_measured_and_transliterated():
    assert gsm7.transliterate("angka 0–9 “ok” é ĕ") == 'angka 0-9 "ok" é e'
    assert gsm7.length("[a]") == 5 and gsm7.length("abc") == 3
    parts = gsm7.split("kata " * 40)
    assert [p[:6] for p in parts] == ["(1/2) ", "(2/2) "]
    assert " ".join(p[6:] for p in parts) == ("kata " * 40).strip()
    for part in gsm7.split("x" * 400):
        assert gsm7.length(part) <= 160


def test_the_due_date_counts_in_days_as_the_web_does(desk):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=models.WIB), tick=False):
        report = submit()
    with time_machine.travel(datetime.datetime(2026, 3, 11, 9, tzinfo=models.WIB), tick=False):
        assert ", sudah terlambat 2 hari." in ask(desk, f"LACAK {report.kode}").parts[0]


def test_cek_says_a_report_is_being_assessed_or_an_enrolment_ended(desk):
    """The same asides as the web's check (cases/lookup.py): no duplicate report invited."""
    waiting = add_person(nama="WARGA MENUNGGU", no_kk="3510160101200007")
    report = submit(nik=waiting, nama="WARGA MENUNGGU")
    reply = ask(desk, f"CEK {waiting}").parts[0]
    assert "sedang dinilai" in reply and _date(report.tenggat) in reply
    assert report.kode not in reply and "TETANGGA" not in reply.upper()
    ended = add_person(nama="WARGA PINDAH", no_kk="3510160101200008")
    enrolment = models.enrol(ended, "PKH", sumber="tes")
    models.end_enrolment(enrolment.id, "Pindah domisili")
    reply = ask(desk, f"CEK {ended}").parts[0]
    assert "tidak lagi terdaftar di PKH sejak" in reply
