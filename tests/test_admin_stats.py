"""Statistics: the figures are right, formatted the Indonesian way, drawn as inline SVG without
inline styles; the public page holds no personal data and fits one TCP round trip."""
from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

import models
from cases import casework
from imports import recipients as importer
from models import Report
from nik import make_nik
from office import stats
from tests.conftest import login, new_nik

CSS = Path(__file__).resolve().parent.parent / "static" / "style.css"
BANYUWANGI, PESANGGARAN = "35.10.16.1001", "35.10.01.2001"


@pytest.fixture
def figures(app):
    """1,200 PKH families in kecamatan Banyuwangi, 3 Rantang Kasih elders in Pesanggaran,
    and reports in every state of the seven-day rule."""
    app.config.update(STATS_PUBLIC_MAX_AGE=0, STATS_ADMIN_MAX_AGE=0)
    lines = ["nik,no_kk,nama,alamat,kode_desa,skema"]
    for i in range(1200):  # own serials: conftest's new_nik() has 9,999 for the whole run
        nik = make_nik("351016", datetime.date(1970, 1, 1), False, 5000 + i)
        lines.append(f"{nik},35101601012{i:05d},WARGA SATU,Jl. A,{BANYUWANGI},PKH")
    for i in range(3):
        nik = make_nik("351001", datetime.date(1940, 1, 1), True, 5000 + i)
        lines.append(f"{nik},35100101012{i:05d},LANSIA DUA,Jl. B,{PESANGGARAN},RANTANG-KASIH")
    assert importer.import_register(importer.read_text("\n".join(lines) + "\n")).ok
    today = models.today()
    states = [("tersalurkan", True, -20), ("tersalurkan", True, -10), ("tersalurkan", False, -9),
              ("layak", None, -2), ("layak", None, 3), ("menunggu-penilaian", None, 5),
              ("tidak-layak", None, None)]
    for status, on_time, days in states:
        report = _report()
        Report.update(status=status, tepat_waktu=on_time,
                      tenggat=today + datetime.timedelta(days=days) if days is not None
                      else None).where(Report.id == report.id).execute()
    return app


def _report():
    nik = new_nik()
    subject = dict(nik=nik, nama="RAHASIA PRIBADI", no_kk=None, alamat="Jl. Rahasia 7",
                   desa=BANYUWANGI, kategori="lainnya", keterangan="")
    reporter = dict(hubungan="diri-sendiri", nama="RAHASIA PRIBADI", nik=nik, telepon=None)
    return casework.submit_report(subject, reporter)[0]


def test_figures(figures):
    snap = stats.take()
    by_code = {a.kode: a for a in snap.areas}
    assert len(snap.areas) == 25
    assert by_code["35.10.16"].by_level == {"pusat": 1200}
    assert by_code["35.10.16"].by_scheme == {"PKH": 1200}
    assert by_code["35.10.01"].by_level == {"kabupaten": 3}
    assert snap.level_totals == {"pusat": 1200, "provinsi": 0, "kabupaten": 3}
    assert snap.scheme_totals["PKH"] == 1200 and snap.recipients == 1203
    assert snap.statuses == {"menunggu-penilaian": 1, "layak": 2, "tersalurkan": 3,
                             "tidak-layak": 1, "ditolak-otomatis": 0}
    d = snap.delivery
    assert (d.on_time, d.late, d.overdue, d.waiting) == (2, 1, 1, 1)
    assert d.share_on_time == pytest.approx(0.5)  # 2 of 4 known outcomes


def test_ended_enrolments_are_not_counted(figures):
    enrolment = models.Enrolment.select().where(models.Enrolment.scheme == "RANTANG-KASIH").get()
    models.end_enrolment(enrolment.id, "Meninggal dunia")
    assert stats.take().level_totals["kabupaten"] == 2


def test_indonesian_formatting():
    assert stats.number(66796) == "66.796" and stats.number(2_000_000) == "2.000.000"
    assert stats.long_date(datetime.date(2026, 11, 27)) == "27 November 2026"
    assert stats.percent(0.873) == "87,3%" and stats.percent(None) == "–"


def test_public_page_within_budget_and_without_personal_data(figures, client):
    response = client.get("/statistik")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert len(response.data) + CSS.stat().st_size <= 14_000
    assert "1.203" in html and "1.200" in html  # Indonesian digit grouping
    assert stats.long_date(models.today()) in html
    assert "50%" in html  # delivered within seven days
    for personal in ("RAHASIA", "WARGA SATU", "LANSIA", "Jl. ", "3510"):
        assert personal not in html.replace("35.10", "")
    assert not re.search(r"\d{16}", html)
    assert "<svg" in html and "<path" in html and 'role="img"' in html
    assert "style=" not in html and "<script>" not in html  # CSP: no inline style or script
    assert response.headers["Cache-Control"].startswith("public")


def test_public_page_is_not_cached_for_signed_in_staff(figures, client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    assert client.get("/statistik").headers["Cache-Control"] == "no-store"


def test_admin_page_has_every_scheme_per_kecamatan(figures, client, make_user):
    make_user("kepala", "admin")
    login(client, "kepala")
    html = client.get("/admin/statistik").get_data(as_text=True)
    row = re.search(r'<tr data-kecamatan="35.10.16">(.*?)</tr>', html).group(1)
    assert "<td>1.200</td>" in row and "<b>1.200</b>" in row
    assert "Terlambat, belum disalurkan</dt><dd><span class=\"terlambat\">1</span>" in html
    assert "style=" not in html


def test_public_page_with_an_empty_register(client, app):
    app.config["STATS_PUBLIC_MAX_AGE"] = 0
    html = client.get("/statistik").get_data(as_text=True)
    assert "Belum ada kasus yang jatuh tempo" in html and "<b>0</b> penerima" in html
