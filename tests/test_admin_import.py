"""Imports through the browser: the upload starts a background process that runs the same
import as `flask import-data`; the page shows progress, then every problem by line, with the
problems and the rejected rows downloadable. Cancelling, or killing the worker with SIGKILL,
leaves the register exactly as it was, and the job does not look as if it were still running."""
from __future__ import annotations

import csv
import io
import os
import signal
import time

import pytest
from peewee import SqliteDatabase

import models
from imports import demo, jobs
from imports import files as import_files
from imports import recipients as importer
from tests.conftest import csrf_token, login, new_nik

HEADER = "nik,no_kk,nama,alamat,kode_desa,skema"
DESA = "35.10.16.1001"
KK = "3510160101200021"


@pytest.fixture
def admin(app, client, make_user, tmp_path):
    app.config["IMPORT_DIR"] = str(tmp_path / "impor")
    if not isinstance(models.db.obj, SqliteDatabase):
        jobs.ImportJob.delete().execute()  # PostgreSQL: the table outlives each test
    make_user("kepala", "admin")
    login(client, "kepala")
    return client


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    """A realistic 200,000-row register file (families in every desa, ~15 % enrolled)."""
    path = tmp_path_factory.mktemp("besar") / "daftar-besar.csv"
    demo.write_csv(path, 200_000, seed=7)
    return path


def row(nik, no_kk=KK, nama="SITI WAHYUNI", alamat="Jl. Mawar 1", desa=DESA, skema=""):
    return f"{nik},{no_kk},{nama},{alamat},{desa},{skema}"


def upload(client, content: bytes, name="daftar.csv", skip=False):
    data = {"csrf_token": csrf_token(client, "/admin/impor"),
            "berkas": (io.BytesIO(content), name)}
    if skip:
        data["lewati"] = "1"
    return client.post("/admin/impor", data=data, content_type="multipart/form-data")


def job_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def wait(job: int, until=lambda j: not j.active, timeout=120) -> jobs.ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = jobs.get(job)
        if until(current):
            return current
        time.sleep(0.02)
    raise AssertionError(f"job {job} still {jobs.get(job).status} after {timeout} s")


def register() -> tuple[list, list]:
    """Everything the register holds, to compare before and after."""
    people = list(models.Person.select().order_by(models.Person.nik).tuples())
    enrolments = list(models.Enrolment.select(models.Enrolment.person, models.Enrolment.scheme,
                                              models.Enrolment.berakhir)
                      .order_by(models.Enrolment.id).tuples())
    return people, enrolments


def test_valid_file_is_imported_in_the_background(admin):
    head, child = new_nik(), new_nik()
    text = "\n".join((HEADER, row(head, skema="PKH"), row(child, nama="BUDI"))) + "\n"
    job = wait(job_id(upload(admin, text.encode())))
    assert job.status == "selesai"
    assert (job.rows, job.people_added, job.enrolled, job.problems) == (2, 2, 1, 0)
    assert models.covering(child).status == "keluarga-terdaftar"
    enrolment = models.Enrolment.get(models.Enrolment.person == head)
    assert enrolment.sumber.startswith("impor:daftar.csv")
    page = admin.get(f"/admin/impor/{job.id}").get_data(as_text=True)
    assert "Selesai, data tersimpan" in page and "2 baru" in page
    # The upload holds personal data: it is gone once the job is over.
    assert not (job.path / import_files.UPLOAD).exists()
    # Who imported which file is in the audit log, the file's NIKs are not.
    from office import audit

    [entry] = audit.entries("impor")
    assert entry.actor == "kepala" and "daftar.csv" in entry.subject
    assert head not in entry.subject and child not in entry.subject


def test_problems_by_line_nothing_written(admin):
    good, dup = new_nik(), new_nik()
    lines = [HEADER, row(good), row("351016170580001"), row(dup), row(dup, nama="LAIN"),
             row(new_nik(), desa="35.10.16.9999", skema="XYZ")]
    job = wait(job_id(upload(admin, ("\n".join(lines) + "\n").encode())))
    assert job.status == "ditolak" and job.problem_rows == 3 and job.problems == 4
    assert models.Person.select().count() == 0  # all or nothing
    page = admin.get(f"/admin/impor/{job.id}").get_data(as_text=True)
    assert "Tidak ada data yang disimpan" in page
    assert "<td>3</td><td>NIK harus 16 angka, yang diisi 15 angka.</td>" in page
    assert "<td>5</td><td>NIK ini sudah ada di baris 4" in page
    response = admin.get(f"/admin/impor/{job.id}/masalah.csv")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffbaris,masalah")
    lines_with_problems = [r[0] for r in csv.reader(io.StringIO(text[1:]))][1:]
    assert lines_with_problems == ["3", "5", "6", "6"]


def test_only_valid_rows_and_the_rejected_ones_downloadable(admin):
    good, bad_kk = new_nik(), new_nik()
    lines = [HEADER, row(good, skema="BST"), row(bad_kk, no_kk="351016"),
             row("3510163002800001", nama="SALAH TANGGAL")]
    job = wait(job_id(upload(admin, ("\n".join(lines) + "\n").encode(), skip=True)))
    assert job.status == "selesai" and job.problem_rows == 2 and job.people_added == 1
    assert models.covering(good).skema == "BST"
    assert models.Person.get_or_none(models.Person.nik == bad_kk) is None
    response = admin.get(f"/admin/impor/{job.id}/baris-ditolak.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["nik"] for r in rows] == [f'="{bad_kk}"', '="3510163002800001"']
    assert rows[0]["no_kk"] == '="351016"' and "No. KK harus 16 angka" in rows[0]["alasan"]
    assert "tidak ada di kalender" in rows[1]["alasan"]
    assert rows[1]["nama"] == "SALAH TANGGAL"


def test_refused_file_can_be_run_again_with_valid_rows_only(admin):
    good = new_nik()
    lines = [HEADER, row(good), row("123")]
    first = wait(job_id(upload(admin, ("\n".join(lines) + "\n").encode())))
    assert first.status == "ditolak"
    page = admin.get(f"/admin/impor/{first.id}").get_data(as_text=True)
    assert "Impor 1 baris yang benar saja" in page
    token = csrf_token(admin, f"/admin/impor/{first.id}")
    second = wait(job_id(admin.post(f"/admin/impor/{first.id}/baris-benar",
                                    data={"csrf_token": token})))
    assert second.status == "selesai" and second.skip_invalid and second.people_added == 1
    assert models.Person.get_or_none(models.Person.nik == good) is not None


def test_first_200_problems_on_the_page_all_in_the_file(admin):
    lines = [HEADER] + [row(f"351016051780{i:04d}") for i in range(1, 251)]  # month 17
    job = wait(job_id(upload(admin, ("\n".join(lines) + "\n").encode())))
    assert job.problems == 250
    page = admin.get(f"/admin/impor/{job.id}").get_data(as_text=True)
    assert "Menampilkan 200 masalah pertama dari 250" in page
    assert page.count("Bulan lahir pada NIK tidak mungkin") == 200
    all_problems = admin.get(f"/admin/impor/{job.id}/masalah.csv").get_data(as_text=True)
    assert all_problems.count("Bulan lahir pada NIK tidak mungkin") == 250


def test_bad_uploads_are_refused_with_a_message(admin):
    assert "Pilih berkas CSV" in admin.post(
        "/admin/impor", data={"csrf_token": csrf_token(admin, "/admin/impor")}).get_data(
        as_text=True)
    response = upload(admin, b"%PDF-1.4", name="daftar.pdf")
    assert response.status_code == 422 and "Berkas harus CSV" in response.get_data(as_text=True)
    response = upload(admin, b"", name="kosong.csv")
    assert "Berkas yang diunggah kosong" in response.get_data(as_text=True)
    # Without the CSRF token nothing is stored.
    response = admin.post("/admin/impor", data={"berkas": (io.BytesIO(b"x"), "a.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 400


def test_file_not_in_utf8_fails_with_advice(admin):
    text = "\n".join((HEADER, row(new_nik(), nama="SÜLAIMAN"))) + "\n"
    job = wait(job_id(upload(admin, text.encode("cp1252"))))
    assert job.status == "gagal" and "UTF-8" in job.error


def test_upload_over_the_limit(admin, app):
    app.config["IMPORT_MAX_BYTES"] = 1000
    response = upload(admin, b"x" * 5000)
    assert response.status_code == 413
    assert "Berkas terlalu besar" in response.get_data(as_text=True)


def test_progress_page_polls_and_works_without_javascript(admin, app, monkeypatch):
    monkeypatch.setattr(jobs, "process_alive", lambda pid: True)
    job = jobs.create(_folder(app, "\n".join((HEADER, row(new_nik()))) + "\n"), "a.csv",
                      "kepala", False)  # queued, no worker started: the page shows progress
    jobs.ImportJob.update(pid=os.getpid(), host=jobs.HOST).where(
        jobs.ImportJob.id == job.id).execute()
    page = admin.get(f"/admin/impor/{job.id}")
    html = page.get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert 'hx-trigger="every 1s"' in html and "<progress" in html
    assert page.headers["Cache-Control"] == "no-store"
    fragment = admin.get(f"/admin/impor/{job.id}", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="kemajuan"') and len(fragment.data) <= 1000
    jobs.finish(job.id, "selesai")
    done = admin.get(f"/admin/impor/{job.id}", headers={"HX-Request": "true"})
    assert done.headers["HX-Refresh"] == "true"  # the whole page now shows the result


def test_one_import_at_a_time(admin, app, monkeypatch):
    monkeypatch.setattr(jobs, "process_alive", lambda pid: True)
    job = jobs.create(_folder(app, HEADER + "\n"), "a.csv", "kepala", False)
    jobs.ImportJob.update(pid=os.getpid(), host=jobs.HOST).where(
        jobs.ImportJob.id == job.id).execute()
    response = upload(admin, (HEADER + "\n" + row(new_nik()) + "\n").encode())
    assert response.status_code == 409 and "Impor lain sedang berjalan" in response.get_data(
        as_text=True)


def _folder(app, text: str):
    folder = jobs.new_folder(app.config["IMPORT_DIR"])
    (folder / import_files.UPLOAD).write_text(text)
    return folder


def _prepare_register(big_file, count=2000) -> list[str]:
    """People from the big file already in the register, some enrolled: the big import would
    update their addresses, so a half-done write would show."""
    with open(big_file, encoding="utf-8") as fh:
        lines = [next(fh)] + [next(fh) for _ in range(count)]
    result = importer.import_register(importer.read_text("".join(lines)))
    assert result.ok
    return lines


def _changed_copy(big_file) -> bytes:
    """The big file with every address changed: writing it touches every row."""
    return big_file.read_bytes().replace(b"RT 0", b"RT 9")


@pytest.mark.parametrize("how", ["kill", "cancel"])
def test_a_killed_or_cancelled_import_leaves_the_register_as_it_was(admin, big_file,
                                                                    monkeypatch, how):
    _prepare_register(big_file)
    before = register()
    monkeypatch.setenv("IMPORT_BEAT_SECONDS", "0.05")  # the worker reports 20 times a second
    job = job_id(upload(admin, _changed_copy(big_file), name="besar.csv"))
    writing = wait(job, until=lambda j: (j.phase == "menulis" and j.done > 0) or not j.active)
    assert writing.status == "berjalan", f"the import ended before its write: {writing.status}"
    if how == "kill":
        os.kill(writing.pid, signal.SIGKILL)  # mid-write, inside the transaction
        deadline = time.monotonic() + 10
        while jobs.process_alive(writing.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        ended = jobs.get(job)  # sees the worker gone, and launches one to undo its steps
        assert ended.status == "terputus" and "tidak berubah" in ended.error
        page = admin.get(f"/admin/impor/{job}").get_data(as_text=True)
        assert "Terputus" in page and "Sedang berjalan" not in page
    else:
        token = csrf_token(admin, f"/admin/impor/{job}")
        assert admin.post(f"/admin/impor/{job}/batal",
                          data={"csrf_token": token}).status_code == 303
        assert wait(job).status == "dibatalkan"
    deadline = time.monotonic() + 30  # SQLite, killed: the recovery worker undoes the steps
    while register() != before and time.monotonic() < deadline:
        time.sleep(0.1)
    if isinstance(models.db.obj, SqliteDatabase):
        names = {r[0] for r in models.db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()}
        assert "person_no_kk" in names
        assert models.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert register() == before
    # Nothing is stuck: the next import runs.
    again = wait(job_id(upload(admin, (HEADER + "\n" + row(new_nik()) + "\n").encode())))
    assert again.status == "selesai"


def test_a_worker_gone_without_a_trace_is_shown_as_interrupted(admin, app):
    job = jobs.create(_folder(app, HEADER + "\n"), "a.csv", "kepala", False)
    stale = models.utcnow().replace(year=2000)
    jobs.ImportJob.update(status="berjalan", host="server-lain", pid=12345,
                          heartbeat_at=stale).where(jobs.ImportJob.id == job.id).execute()
    assert jobs.get(job.id).status == "terputus"
    assert jobs.running() is None


def test_big_upload_returns_at_once_and_imports_in_the_background(admin, big_file):
    started = time.monotonic()
    response = upload(admin, big_file.read_bytes(), name="besar.csv")
    assert time.monotonic() - started < 10  # storing the file, not importing it
    job = wait(job_id(response), timeout=300)
    assert job.status == "selesai" and job.rows == 200_000
    assert models.Person.select().count() == 200_000


def test_rejected_rows_keep_the_files_own_format(admin):
    """Semicolons, a quoted address over two lines: the rejected row is the right one."""
    good, bad = new_nik(), new_nik()
    text = ("nik;no_kk;nama;alamat;kode_desa;skema\n"
            f'{good};{KK};SITI;"Jl. Mawar 1\nRT 001";{DESA};\n'
            f"{bad};{KK};BUDI;Jl. Melati;35.10.16;\n")
    job = wait(job_id(upload(admin, text.encode(), skip=True)))
    assert job.status == "selesai" and job.people_added == 1
    rejected = admin.get(f"/admin/impor/{job.id}/baris-ditolak.csv").get_data(as_text=True)
    assert rejected.startswith("\ufeffnik;no_kk;nama;alamat;kode_desa;skema;alasan")
    [line] = list(csv.reader(io.StringIO(rejected), delimiter=";"))[1:]
    assert line[:6] == [f'="{bad}"', f'="{KK}"', "BUDI", "Jl. Melati", "35.10.16", ""]
    assert "kode kecamatan" in line[6]


def test_a_file_without_the_header_row(admin):
    job = wait(job_id(upload(admin, f"{row(new_nik())}\n".encode())))
    assert job.status == "ditolak"
    page = admin.get(f"/admin/impor/{job.id}").get_data(as_text=True)
    assert "tidak ditemukan di baris judul" in page and "Tidak ada data yang disimpan." in page


def test_old_result_files_are_removed_but_the_jobs_stay(admin, app):
    old = []
    for _ in range(3):
        folder = _folder(app, HEADER + "\n")
        (folder / import_files.PROBLEMS).write_text("baris,masalah\n")
        job = jobs.create(folder, "lama.csv", "kepala", False)
        jobs.finish(job.id, "ditolak")
        old.append(job)
    newest = jobs.create(_folder(app, HEADER + "\n"), "baru.csv", "kepala", False)
    jobs.forget_old_uploads(keep=newest.id, files_kept=2)
    assert not old[0].path.exists()  # beyond the latest two: the folder is gone
    assert (old[2].path / import_files.PROBLEMS).exists()  # recent: results stay
    assert not (old[2].path / import_files.UPLOAD).exists()  # but not the upload
    assert (newest.path / import_files.UPLOAD).exists()
    assert admin.get(f"/admin/impor/{old[0].id}/masalah.csv").status_code == 404
    assert jobs.get(old[0].id).status == "ditolak"


def test_a_spreadsheet_with_a_chosen_sheet_and_a_short_list_scheme(admin, tmp_path):
    from tests.spreadsheets import number_nik, write_xlsx

    known = number_nik()
    models.Person.create(nik=known, no_kk=KK, nama="SITI WAHYUNI", alamat="", desa=DESA)
    path = write_xlsx(tmp_path / "desa.xlsx", [["NIK", "NAMA"], [float(known), "Siti Wahyuni"]],
                      sheet="Usulan", before={"Catatan": [["dari desa"]]})
    data = {"csrf_token": csrf_token(admin, "/admin/impor"), "lembar": "usulan",
            "skema": "BPNT", "berkas": (io.BytesIO(path.read_bytes()), "usulan desa.xlsx")}
    job = wait(job_id(admin.post("/admin/impor", data=data,
                                 content_type="multipart/form-data")))
    assert job.status == "selesai" and job.enrolled == 1
    assert models.covering(known).skema == "BPNT"


def test_unrecognised_columns_are_mapped_in_the_browser_and_remembered(admin):
    header = "ID;Identitas;Kartu;Penerima;Wilayah"
    nik, later = new_nik(), new_nik()
    first = wait(job_id(upload(admin, f"{header}\n1;{nik};{KK};SITI;{DESA}\n".encode())))
    assert first.status == "ditolak"
    page = admin.get(f"/admin/impor/{first.id}").get_data(as_text=True)
    assert "Petakan kolom berkas ini" in page
    form = admin.get(f"/admin/impor/{first.id}/kolom").get_data(as_text=True)
    assert '<label for="kolom-1">Identitas</label>' in form
    token = csrf_token(admin, f"/admin/impor/{first.id}/kolom")
    incomplete = admin.post(f"/admin/impor/{first.id}/kolom",
                            data={"csrf_token": token, "kolom-1": "nik"})
    assert incomplete.status_code == 422
    assert "Kolom Nama tidak ditemukan" in incomplete.get_data(as_text=True)
    mapping = {"csrf_token": token, "kolom-0": "", "kolom-1": "nik", "kolom-2": "no_kk",
               "kolom-3": "nama", "kolom-4": "kode_desa"}
    second = wait(job_id(admin.post(f"/admin/impor/{first.id}/kolom", data=mapping)))
    assert second.status == "selesai" and second.people_added == 1
    assert models.Person.get_by_id(nik).nama == "SITI"
    # The next file with these headers is imported without asking.
    third = wait(job_id(upload(admin, f"{header}\n2;{later};{KK};BUDI;{DESA}\n".encode())))
    assert third.status == "selesai" and third.people_added == 1
