"""8 processes at once, on each backend: no duplicate case or enrolment, no lost write.

Each worker is a separate process (like a gunicorn worker) with its own connection; they start
together on a barrier so the writes really overlap.
"""
from __future__ import annotations

import multiprocessing

import pytest

import models
from cases import casework
from tests.conftest import DESA, add_person, new_nik

WORKERS = 8
KK = "3510160101200001"


def _in_app(url, barrier, results, job, args):
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "t",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context(), models.db.connection_context():
        barrier.wait(30)
        try:
            results.put(("ok", job(*args)))
        except casework.CaseError as exc:
            results.put(("case-error", str(exc)))
        except models.RegisterError as exc:
            results.put(("register-error", str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results.put(("crash", repr(exc)))


def _report(nik, reporter_name):
    subject = {"nik": nik, "nama": "WARGA BARU", "no_kk": None, "alamat": "Jl. Kenanga 3",
               "desa": DESA, "kategori": "kehilangan-penghasilan", "keterangan": ""}
    report, outcome = casework.submit_report(
        subject, {"hubungan": "orang-lain", "nama": reporter_name, "nik": None,
                  "telepon": None})
    return report.kode, outcome


def _enrol(nik, scheme):
    models.enrol(nik, scheme, sumber="race")
    return scheme


def _decide(kode, user_id, scheme):
    report = models.Report.by_code(kode)
    user = models.User.get_by_id(user_id)
    return casework.decide_eligible(report, scheme, user).status


def _race(url, jobs):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=_in_app, args=(url, barrier, results, job, args))
             for job, args in jobs]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=90) for _ in procs]
    for p in procs:
        p.join(30)
    assert not [o for o in outcomes if o[0] == "crash"], outcomes
    return outcomes


@pytest.fixture
def url(app, database_url):
    # The workers open their own connections: let go of the test's so SQLite is not held.
    models.db.close()
    yield database_url
    models.db.connect(reuse_if_open=True)


def test_eight_reports_about_one_new_person_make_one_case(url):
    nik = new_nik()
    outcomes = _race(url, [(_report, (nik, f"PELAPOR {i}")) for i in range(WORKERS)])
    codes = {o[1][0] for o in outcomes}
    with models.db.connection_context():
        case = models.Report.get(models.Report.nik == nik)
        assert codes == {case.kode}
        assert case.status == "menunggu-penilaian" and case.jumlah_pelapor == WORKERS
        assert models.Reporter.select().where(models.Reporter.report == case).count() == WORKERS
        assert sorted(o[1][1] for o in outcomes) == ["baru"] + ["gabung"] * (WORKERS - 1)


def test_reports_about_different_people_are_all_kept(url):
    niks = [new_nik() for _ in range(WORKERS)]
    outcomes = _race(url, [(_report, (nik, "PELAPOR")) for nik in niks])
    assert all(o == ("ok", o[1]) and o[1][1] == "baru" for o in outcomes)
    with models.db.connection_context():
        assert models.Report.select().count() == WORKERS
        assert {r.nik for r in models.Report.select()} == set(niks)


def test_one_family_scheme_per_card_when_members_enrol_at_once(url):
    with models.db.connection_context():
        members = [add_person(no_kk=KK, nama=f"ANGGOTA {i}") for i in range(WORKERS)]
    schemes = ["PKH", "BPNT", "BST", "BLT-DD", "PKH-PLUS", "BKK-JATIM", "SEMBAKO-BWI",
               "RANTANG-KASIH"]
    outcomes = _race(url, [(_enrol, (m, s)) for m, s in zip(members, schemes, strict=True)])
    assert [o[0] for o in outcomes].count("ok") == 1, outcomes
    with models.db.connection_context():
        active = models.Enrolment.select().where(models.Enrolment.berakhir.is_null())
        assert active.count() == 1


def test_eight_reviewers_deciding_one_case(url):
    with models.db.connection_context():
        kode = _report(new_nik(), "PELAPOR")[0]
        users = []
        for i in range(WORKERS):
            user = models.User(username=f"verif{i}", role="verifikator")
            user.set_password("rahasia-123")
            user.save()
            users.append(user.id)
    outcomes = _race(url, [(_decide, (kode, u, "RANTANG-KASIH")) for u in users])
    assert [o[0] for o in outcomes].count("ok") == 1, outcomes
    assert all("sudah diproses" in o[1] for o in outcomes if o[0] != "ok"), outcomes
    with models.db.connection_context():
        assert models.Enrolment.select().count() == 1
        assert models.Report.by_code(kode).status == "layak"
        assert models.ReportEvent.select().where(
            models.ReportEvent.status == "layak").count() == 1
