"""Retention: `anonymise-reports` blanks the personal data of closed reports past the period."""
from __future__ import annotations

import datetime

import time_machine

import models
from cases import casework, retention
from models import Report, Reporter, ReportEvent
from tests.conftest import DESA, add_person, new_nik

WIB = models.WIB
DAY0 = datetime.datetime(2024, 1, 8, 9, 0, tzinfo=WIB)


def submit(nik=None, nama="BUDI SANTOSO", keterangan="Di-PHK sejak Maret, tinggal di Jl. Kenanga"):
    subject = {"nik": nik or new_nik(), "nama": nama, "no_kk": "3510160101200009",
               "alamat": "Jl. Kenanga 3 RT 001 RW 002", "desa": DESA,
               "kategori": "kehilangan-penghasilan", "keterangan": keterangan}
    reporter = {"hubungan": "orang-lain", "nama": "TETANGGA BAIK", "nik": new_nik(),
                "telepon": "081234567890"}
    return casework.submit_report(subject, reporter)[0]


def make_cases(verifier):
    """One case in each state, all made on DAY0 (closed ones closed on DAY0 as well)."""
    models.enrol(add_person(no_kk="3510160101200001"), "PKH", "test")
    covered = models.Person.select().first().nik
    cases = {"ditolak-otomatis": submit(nik=covered), "menunggu-penilaian": submit(),
             "layak": submit(), "tidak-layak": submit(), "tersalurkan": submit()}
    casework.decide_eligible(cases["layak"], "RANTANG-KASIH", verifier)
    casework.decide_ineligible(cases["tidak-layak"], "mampu", verifier, "Punya toko, Pak Budi")
    casework.decide_eligible(cases["tersalurkan"], "RANTANG-KASIH", verifier)
    casework.record_delivery(Report.get_by_id(cases["tersalurkan"].id), verifier,
                             keterangan="Diterima istrinya, Ibu Sri")
    return {status: Report.get_by_id(r.id) for status, r in cases.items()}


def test_closed_reports_past_the_period_lose_personal_data_and_keep_statistics(app, make_user):
    verifier = make_user("verif", "verifikator")
    with time_machine.travel(DAY0, tick=False):
        cases = make_cases(verifier)
    assert {c.status for c in cases.values()} == set(models.STATUSES)
    before = {s: (c.kode, c.status, c.tanggal_lapor, c.desa_kode, c.kecamatan_kode, c.kategori,
                  c.skema_kode, c.skema_penutup_kode, c.alasan, c.tanggal_putusan,
                  c.tanggal_salur, c.tepat_waktu, c.jumlah_pelapor)
              for s, c in cases.items()}
    with time_machine.travel(DAY0 + datetime.timedelta(days=100), tick=False):
        assert retention.anonymise(older_than_days=100) == 0  # not older than 100 days yet
        assert retention.anonymise(older_than_days=99) == 3
        assert retention.anonymise(older_than_days=99) == 0  # idempotent
    for status, old in cases.items():
        case = Report.get_by_id(old.id)
        kept = (case.kode, case.status, case.tanggal_lapor, case.desa_kode, case.kecamatan_kode,
                case.kategori, case.skema_kode, case.skema_penutup_kode, case.alasan,
                case.tanggal_putusan, case.tanggal_salur, case.tepat_waktu, case.jumlah_pelapor)
        assert kept == before[status]
        reporters = list(Reporter.select().where(Reporter.report == case))
        notes = [e.note for e in ReportEvent.select().where(ReportEvent.report == case)]
        if status in models.CLOSED_STATUSES:
            assert case.dianonimkan_at is not None
            assert (case.nama, case.nik, case.no_kk, case.alamat, case.keterangan,
                    case.catatan, case.keterangan_salur) == ("", "", None, "", "", "", "")
            assert all((r.nama, r.nik, r.telepon) == ("", None, None) for r in reporters)
            assert all(note == "" for note in notes) and notes  # the events themselves stay
        else:
            assert case.dianonimkan_at is None and case.nama == "BUDI SANTOSO"
            assert all(r.nik and r.telepon for r in reporters)


def test_the_period_counts_from_the_day_the_case_closed(app, make_user):
    verifier = make_user("verif", "verifikator")
    with time_machine.travel(DAY0, tick=False):
        report = submit()
        casework.decide_eligible(report, "RANTANG-KASIH", verifier)
    with time_machine.travel(DAY0 + datetime.timedelta(days=5), tick=False):
        casework.record_delivery(Report.get_by_id(report.id), verifier)
    with time_machine.travel(DAY0 + datetime.timedelta(days=12), tick=False):
        assert retention.anonymise(older_than_days=8) == 0  # closed 7 days ago
        assert retention.anonymise(older_than_days=6) == 1


def test_command_uses_the_configured_period_and_the_tracking_page_says_so(app, client, runner):
    with time_machine.travel(DAY0, tick=False):
        models.enrol(add_person(no_kk="3510160101200001"), "PKH", "test")
        report = submit(nik=models.Person.select().first().nik)
    assert report.status == "ditolak-otomatis"
    app.config["RETENTION_DAYS"] = 30
    with time_machine.travel(DAY0 + datetime.timedelta(days=20), tick=False):
        result = runner.invoke(args=["anonymise-reports"])
        assert result.exit_code == 0 and "0 laporan" in result.output
        result = runner.invoke(args=["anonymise-reports", "--older-than-days", "10"])
        assert result.exit_code == 0 and "1 laporan" in result.output
        page = client.get(f"/laporan/{report.kode}").get_data(as_text=True)
    assert "sudah dihapus" in page and "B***I" not in page
    assert runner.invoke(args=["anonymise-reports", "--older-than-days", "-1"]).exit_code != 0
