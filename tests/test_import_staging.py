"""Imports that never hold residents back, and stay all or nothing (imports/apply.py, staging.py).

On SQLite the write goes in short steps with the lock free between them: a report and a
reviewer's decision go through while an import is paused between two steps. A cancel, an error
or a kill -9 in the middle of the write leaves the register exactly as it was (the undo journal
in the staging file, rolled back at once or by the next run), and the staging file is gone.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from peewee import SqliteDatabase

import models
from cases import casework
from imports import apply, staging
from imports import recipients as importer
from tests.conftest import add_person, new_nik
from tests.test_reports import submit, submitted

ROOT = Path(__file__).resolve().parent.parent
HEADER = "nik,no_kk,nama,alamat,kode_desa,skema,desil"
DESA = "35.10.16.1001"


def card(i: int) -> str:
    return f"351016{i:010d}"


def row(nik, no_kk, nama="SITI WAHYUNI", alamat="Jl. Mawar 1", skema="", desil=""):
    return f"{nik},{no_kk},{nama},{alamat},{DESA},{skema},{desil}"


def listing(rows) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def sqlite() -> bool:
    return isinstance(models.db.obj, SqliteDatabase)


def snapshot() -> tuple[list, list, list]:
    """The whole register, to compare before and after (people, enrolments, family desils)."""
    db = models.db
    return (db.execute_sql("SELECT * FROM penduduk ORDER BY nik").fetchall(),
            db.execute_sql("SELECT id, nik, skema_kode, family_kk, berakhir FROM kepesertaan "
                           "ORDER BY id").fetchall(),
            db.execute_sql("SELECT no_kk, desil, sumber FROM desil_keluarga ORDER BY no_kk")
            .fetchall())


def staging_files() -> list[Path]:
    path, _lock = staging.place(models.db.obj.database)
    return [p for p in path.parent.iterdir() if p.name.startswith(path.name)]


@pytest.fixture
def prepared(app, monkeypatch):
    """Small steps, and a register holding 60 people of 30 families (10 enrolled in PKH with a
    desil); returns a list that changes every one of them and adds 120 people, 40 enrolled."""
    monkeypatch.setattr(staging, "STEP", 20)
    old = [(new_nik(), card(i // 2)) for i in range(60)]
    first = [row(nik, kk, skema="PKH" if i % 6 == 0 else "", desil="2" if i % 6 == 0 else "")
             for i, (nik, kk) in enumerate(old)]
    assert importer.import_register(importer.read_text(listing(first))).ok
    changed = [row(nik, kk, alamat="Jl. Melati 9", desil="3" if i % 6 == 0 else "")
               for i, (nik, kk) in enumerate(old)]
    new = [row(new_nik(), card(100 + i), skema="BST" if i % 3 == 0 else "",
               desil="1" if i % 3 == 0 else "") for i in range(120)]
    return listing(changed + new)


def run(text: str, **kwargs):
    return importer.import_register(importer.read_text(text), **kwargs)


def test_reports_and_decisions_go_through_while_an_import_writes(app, client, make_user,
                                                                   prepared):
    if not sqlite():
        pytest.skip("PostgreSQL: one transaction, which never held other writers back")
    reviewer = make_user("verif", "verifikator")
    case, _page, _data = submitted(client, nik=new_nik(birth=models.today().replace(year=1950)))
    paused, resume, outcome = threading.Event(), threading.Event(), {}

    def progress(phase, done, total):
        if phase == "menulis" and 0 < done < total and not paused.is_set():
            paused.set()
            assert resume.wait(30)

    def importing():
        with models.db.connection_context():  # its own connection, as the worker process has
            outcome["result"] = run(prepared, progress=progress)

    before = snapshot()
    thread = threading.Thread(target=importing)
    thread.start()
    try:
        assert paused.wait(30), "the import never reached its write"
        assert snapshot() != before  # mid-write: part of the list is in, the lock is free
        start = time.monotonic()
        response, _data = submit(client)
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        decided = casework.decide_eligible(case, "RANTANG-KASIH", reviewer)
        elapsed = time.monotonic() - start
    finally:
        resume.set()
        thread.join(60)
    assert elapsed < 2  # not busy_timeout (10 s) and a 503
    assert decided.status == "layak" and models.covering(case.nik).status == "terdaftar"
    result = outcome["result"]
    assert result.ok, result.problems
    assert (result.people_added, result.people_updated, result.enrolled) == (120, 60, 40)
    assert models.Report.select().count() == 2
    assert staging_files() == []


@pytest.mark.parametrize("how", ["cancel", "error"])
def test_a_cancel_or_an_error_mid_write_leaves_the_register_as_it_was(app, prepared, how):
    before, seen = snapshot(), []

    def progress(phase, done, total):
        if phase == "menulis" and done:
            seen.append(snapshot())  # what the register holds between two steps
            if len(seen) == 12:  # 9 steps of people, 2 of enrolments, 1 of 3 of desils
                if how == "cancel":
                    return True
                raise OSError("disk penuh")
        return False

    if how == "cancel":
        result = run(prepared, progress=progress)
        assert result.cancelled and not result.written
    else:
        with pytest.raises(OSError):
            run(prepared, progress=progress)
    assert seen[-1] != before  # it stopped mid-write, past the people and the enrolments
    assert len(seen[-1][1]) == len(before[1]) + 40
    assert snapshot() == before
    if sqlite():
        assert staging_files() == []


KILLER = """
import os, signal, sys
sys.path.insert(0, {root!r})
import models
from app import create_app
from imports import recipients, staging

staging.STEP = 20
app = create_app({{"TESTING": True, "DATABASE_URL": {url!r}, "SECRET_KEY": "t",
                  "RATELIMIT_STORAGE_URI": "memory://"}})

def progress(phase, done, total):
    if phase == "menulis" and done >= 100:
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9, between two steps

with app.app_context(), models.db.connection_context():
    recipients.import_register({path!r}, progress=progress)
"""


def test_a_killed_import_is_rolled_back_by_the_next_run(app, prepared, tmp_path):
    if not sqlite():
        pytest.skip("PostgreSQL rolls a dead connection's transaction back by itself")
    path = tmp_path / "daftar.csv"
    path.write_text(prepared)
    before = snapshot()
    script = KILLER.format(root=str(ROOT), url=f"sqlite:///{models.db.obj.database}",
                           path=str(path))
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert snapshot() != before  # five steps were in when it died
    assert staging_files() != []  # and the journal with them
    assert importer.recover()
    assert snapshot() == before
    assert staging_files() == []
    assert not importer.recover()  # nothing left to do
    assert run(prepared).ok  # and the list goes in whole afterwards


@pytest.mark.parametrize("who", ["the same NIK", "a family member"])
def test_a_reviewer_enrolment_during_the_write_undoes_it_and_names_the_line(app, prepared,
                                                                            who):
    """The same NIK: the unique index refuses the step. A member of the family: no index
    would; the step sees the reviewer's enrolment on the family card it enrols (Changed)."""
    if not sqlite():
        pytest.skip("PostgreSQL: the import's transaction holds the family's rows")
    target = add_person(no_kk=card(999), nama="BUDI")
    enrolled = target if who == "the same NIK" else add_person(no_kk=card(999), nama="SITI")
    scheme = "BST" if enrolled == target else "RANTANG-KASIH"  # a personal scheme: no index
    text = prepared + row(target, card(999), nama="BUDI", skema="PKH") + "\n"
    before, done_once = snapshot(), threading.Event()

    def reviewer():
        with models.db.connection_context():
            models.enrol(enrolled, scheme, sumber="loket")

    def progress(phase, done, total):
        if phase == "menulis" and done and not done_once.is_set():
            done_once.set()  # between the first two steps, from another connection
            thread = threading.Thread(target=reviewer)
            thread.start()
            thread.join(10)

    result = run(text, progress=progress)
    assert done_once.is_set() and not result.written
    message = ("NIK ini sudah terdaftar sebagai penerima BST." if enrolled == target else
               f"Anggota keluarga dengan NIK {enrolled} sudah menerima {scheme}; satu keluarga "
               "hanya boleh menerima satu bantuan.")
    assert [(p.line, p.message) for p in result.problems] == [(182, message)]
    people, enrolments, desils = snapshot()
    assert (people, desils) == (before[0], before[2])
    assert enrolments[:-1] == before[1] and enrolments[-1][1:3] == (enrolled, scheme)
    assert staging_files() == []


def test_one_import_at_a_time(app, monkeypatch):
    if not sqlite():
        pytest.skip("the lock guards a SQLite register's staging file")
    monkeypatch.setattr(staging, "LOCK_WAIT", 0.2)
    _path, lock_path = staging.place(models.db.obj.database)
    held = staging.lock(lock_path)
    try:
        result = run(listing([row(new_nik(), card(1))]))
    finally:
        staging.unlock(held)
    assert not result.written
    assert [(p.line, p.message) for p in result.problems] == [(0, staging.BUSY)]
    assert run(listing([row(new_nik(), card(1))])).ok


def test_command_line_gives_the_space_back_after_a_failed_write(app, runner, prepared,
                                                                tmp_path, monkeypatch):
    if not sqlite():
        pytest.skip("the write-ahead log is SQLite's")
    from peewee import OperationalError

    import cli

    def failing(every=0):
        def progress(phase, done, total):
            if phase == "menulis" and done >= 100:
                raise OperationalError("database or disk is full")
        return progress

    monkeypatch.setattr(cli, "print_progress", failing)
    path = tmp_path / "daftar.csv"
    path.write_text(prepared)
    before = snapshot()
    result = runner.invoke(args=["import-data", str(path)])
    assert result.exit_code == 1
    assert "Impor gagal, tidak ada yang tersimpan" in result.output
    assert snapshot() == before
    assert os.path.getsize(f"{models.db.obj.database}-wal") == 0
    assert staging_files() == []


def test_recovery_after_a_kill_keeps_what_a_reviewer_changed_meanwhile(app, prepared,
                                                                       monkeypatch):
    """An undo entry applies only where the register still holds what the import wrote."""
    if not sqlite():
        pytest.skip("the undo journal is SQLite's")
    stage_path, _lock = staging.place(models.db.obj.database)
    before = snapshot()

    def progress(phase, done, total):
        if phase == "menulis" and done >= 100:
            raise KeyboardInterrupt  # stands for the kill: the journal stays, undone later

    monkeypatch.setattr(apply, "undo", lambda stage: None)  # the process is "dead"
    with pytest.raises(KeyboardInterrupt):
        run(prepared, progress=progress)
    monkeypatch.undo()
    assert stage_path.exists()
    person = before[0][0][0]
    models.Person.update(nama="NAMA DIUBAH PETUGAS").where(models.Person.nik == person).execute()
    assert importer.recover()
    after = snapshot()
    assert [p for p in after[0] if p[0] != person] == [p for p in before[0] if p[0] != person]
    assert models.Person.get_by_id(person).nama == "NAMA DIUBAH PETUGAS"
    assert after[1:] == before[1:]


def test_a_dead_importers_temporary_staging_file_is_removed_by_the_next_import(tmp_path,
                                                                                 monkeypatch):
    """PostgreSQL imports stage in a temporary file named after their process: one left by a
    process that died (kill -9) is removed when the next import starts; a live one's is kept."""
    import tempfile

    from imports import staging

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    orphan = tmp_path / f"{staging.TEMP_PREFIX}{dead}-abc123.db"
    live = tmp_path / f"{staging.TEMP_PREFIX}{os.getppid()}-def456.db"
    for path in (orphan, live, tmp_path / f"{orphan.name}-wal"):
        path.write_bytes(b"NIK dan nama penerima")
    path, lock_path = staging.place(None)
    assert lock_path is None and path.parent == tmp_path
    assert path.name.startswith(f"{staging.TEMP_PREFIX}{os.getpid()}-")
    assert not orphan.exists() and not (tmp_path / f"{orphan.name}-wal").exists()
    assert live.exists()
