"""Imports uploaded in the browser, run as background jobs: the job table, the worker, liveness.

The upload page stores the file in the job's folder under the instance folder, inserts a job and
launches `flask run-import-job ID` as a process of its own (its own session, so neither the
request ending nor a gunicorn worker restarting stops it). The worker calls
recipients.import_register, the one import implementation, with a progress callback (the
worker is worker.py).

Where the job rows live: on SQLite a small file of their own next to the register
(`cekbansos-impor.db`), so that progress, heartbeat and the cancel flag, written twice a second,
never queue for the register's write lock behind the import's steps or residents. On PostgreSQL
the table `impor` lives in the main database (migrations/0004) and the worker writes it from a
second connection, outside the import's transaction; any app server can then show any job.

A job whose worker died (kill -9, a reboot) must not look as if it were running forever: its
process is checked on the same host (by pid, and that the pid is still a run-import-job), and
on any host a heartbeat older than STALE_SECONDS ends it as `terputus`. The register is then
put back as it was: on PostgreSQL the import is one transaction, which the database rolls back;
on SQLite it writes in short steps with an undo journal (apply.py), so a worker is launched at
once to roll the journal back (every worker does that first, and so does `flask import-data`).
"""
from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    IntegerField,
    Model,
    OperationalError,
    SqliteDatabase,
    TextField,
)

import models
from database import make_database
from imports import files, staging
from settings import ROOT  # the project, where `flask --app app` runs

jobs_db = DatabaseProxy()
log = logging.getLogger(__name__)

HOST = socket.gethostname()[:255]
# How often the worker writes its progress and reads the cancel flag (tests set it lower).
BEAT_SECONDS = float(os.environ.get("IMPORT_BEAT_SECONDS", "0.5"))
STALE_SECONDS = 60  # a running job silent this long is taken as dead
ACTIVE = ("menunggu", "berjalan")
STATUSES = {
    "menunggu": "Menunggu giliran",
    "berjalan": "Sedang berjalan",
    "selesai": "Selesai, data tersimpan",
    "ditolak": "Tidak disimpan: ada baris bermasalah",
    "dibatalkan": "Dibatalkan",
    "gagal": "Gagal",
    "terputus": "Terputus (proses berhenti)",
}
PHASES = {
    "membaca": "Membaca dan memeriksa setiap baris",
    "memeriksa": "Memeriksa aturan satu skema per NIK dan aturan keluarga",
    "menulis": "Menyimpan ke data penerima",
}
INTERRUPTED = ("Proses impor berhenti sebelum selesai (misalnya server dimulai ulang). Bagian "
               "yang sempat tersimpan dibatalkan otomatis, jadi data penerima tidak berubah "
               "sama sekali; unggah berkasnya sekali lagi.")


class ImportJob(Model):
    """One uploaded recipient list and what became of it."""

    id = AutoField()
    status = CharField(max_length=12, default="menunggu")
    filename = CharField(max_length=200)  # as uploaded; shown, never used as a path
    folder = CharField(max_length=500)  # the job's folder on the host that runs it
    size = BigIntegerField(default=0)
    estimated_rows = IntegerField(default=0)
    skip_invalid = BooleanField(default=False)
    username = CharField(max_length=50)
    created_at = DateTimeField(default=models.utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    host = CharField(max_length=255, default="")
    pid = IntegerField(null=True)
    heartbeat_at = DateTimeField(null=True)
    phase = CharField(max_length=12, default="")
    done = BigIntegerField(default=0)
    total = BigIntegerField(default=0)
    cancel_requested = BooleanField(default=False)
    rows = IntegerField(default=0)
    problems = IntegerField(default=0)
    problem_rows = IntegerField(default=0)
    people_added = IntegerField(default=0)
    people_updated = IntegerField(default=0)
    people_unchanged = IntegerField(default=0)
    enrolled = IntegerField(default=0)
    already_enrolled = IntegerField(default=0)
    error = TextField(default="")

    class Meta:
        database = jobs_db
        table_name = "impor"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def phase_label(self) -> str:
        return PHASES.get(self.phase, "Menyiapkan")

    @property
    def percent(self) -> int:
        """Overall progress: reading ~30 %, the rules ~10 %, writing (in short steps, with
        their undo journal) ~60 % of the time."""
        if self.status not in ACTIVE:
            return 100 if self.status == "selesai" else 0
        if self.phase == "membaca":
            expected = max(self.estimated_rows, self.done, 1)
            return int(30 * self.done / expected)
        share = self.done / self.total if self.total else 0
        if self.phase == "memeriksa":
            return 30 + int(10 * share)
        if self.phase == "menulis":
            return 40 + int(60 * share)
        return 0

    @property
    def path(self) -> Path:
        return Path(self.folder)


# --- The store ---------------------------------------------------------------------------------

def init_app(app) -> None:
    """Bind the job table for this app: a side SQLite file, or the PostgreSQL database itself."""
    url = app.config["IMPORT_JOBS_DATABASE_URL"] or side_url(app.config["DATABASE_URL"])
    app.config["IMPORT_JOBS_DATABASE_URL"] = url
    if url == app.config["DATABASE_URL"]:
        jobs_db.initialize(models.db.obj)  # PostgreSQL: same pool, its own connection per thread
        return
    database = make_database(url)
    jobs_db.initialize(database)
    if isinstance(database, SqliteDatabase):
        try:
            with database.connection_context():
                database.create_tables([ImportJob], safe=True)
        except OperationalError as exc:  # the main database cannot be reached either
            log.warning("tabel impor tidak dapat dibuat di %s: %s", url, exc)


def side_url(database_url: str) -> str:
    """`sqlite:///x/cekbansos.db` -> `sqlite:///x/cekbansos-impor.db`; others: itself."""
    if not database_url.startswith("sqlite:///") or database_url.endswith(":memory:"):
        return database_url
    base, dot, ext = database_url.rpartition(".")
    return f"{base}-impor.{ext}" if dot and "/" not in ext else database_url + "-impor"


# --- The web side: create, launch, look, cancel -------------------------------------------------

def new_folder(import_dir: str) -> Path:
    folder = Path(import_dir) / secrets.token_hex(8)
    folder.mkdir(parents=True, mode=0o700)
    return folder


def create(folder: Path, filename: str, username: str, skip_invalid: bool,
           **options) -> ImportJob:
    """A queued job for the upload in `folder`; `options` (lembar: the sheet, skema: the scheme
    of a short list) are kept in the folder for the worker."""
    upload = folder / files.UPLOAD
    if options:
        files.save_options(folder, **options)
    size = upload.stat().st_size
    return ImportJob.create(filename=filename[:200], folder=str(folder), size=size,
                            estimated_rows=files.estimate_rows(upload, size),
                            skip_invalid=skip_invalid, username=username[:50])


def launch(job: ImportJob, database_url: str, jobs_url: str) -> None:
    """Start the worker process for this job; it outlives the request that started it."""
    env = dict(os.environ, DATABASE_URL=database_url, IMPORT_JOBS_DATABASE_URL=jobs_url)
    log = open(job.path / "proses.log", "ab")  # the child writes to it; ours closes below
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "run-import-job", str(job.id)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True)
    except OSError as exc:
        finish(job.id, "gagal", error=f"Proses impor tidak dapat dijalankan: {exc}")
        return
    finally:
        log.close()
    ImportJob.update(pid=process.pid, host=HOST).where(ImportJob.id == job.id).execute()
    # Reap it when it ends, so no zombie stays behind in this (long-lived) web worker.
    threading.Thread(target=process.wait, daemon=True).start()


def recent(limit: int = 20) -> list[ImportJob]:
    return [check(job) for job in
            ImportJob.select().order_by(ImportJob.id.desc()).limit(limit)]


def get(job_id: int) -> ImportJob | None:
    job = ImportJob.get_or_none(ImportJob.id == job_id)
    return check(job) if job is not None else None


def running() -> ImportJob | None:
    """The job that is queued or running now, if any (one import at a time)."""
    for job in ImportJob.select().where(ImportJob.status.in_(ACTIVE)):
        if check(job).active:
            return job
    return None


def check(job: ImportJob) -> ImportJob:
    """A queued or running job whose worker is gone becomes `terputus`."""
    gone = _worker_gone(job) if job.active else None
    if gone:
        if finish(job.id, "terputus", error=INTERRUPTED, only_if=(job.status,)):
            log.warning("impor %s terputus: %s", job.id, gone)
            files.remove_upload(job.path)
            if isinstance(models.db.obj, SqliteDatabase) and job.host == HOST:
                _launch_recovery(job)
        return ImportJob.get_by_id(job.id)
    return job


def _launch_recovery(job: ImportJob) -> None:
    """A worker for the dead job's id: it rolls back what the dead one wrote, then stops (the
    job is not queued any more)."""
    jobs_file = jobs_db.obj.database if isinstance(jobs_db.obj, SqliteDatabase) else None
    register_url = f"sqlite:///{models.db.obj.database}"
    try:
        launch(job, register_url, f"sqlite:///{jobs_file}" if jobs_file else register_url)
    except OSError as exc:  # the next import or worker rolls it back all the same
        log.warning("impor %s: pemulihan tidak dapat dijalankan: %s", job.id, exc)


def _worker_gone(job: ImportJob) -> str | None:
    """Why the job's worker is taken as dead, or None while it lives."""
    last = job.heartbeat_at or job.created_at
    silent = (models.utcnow() - last).total_seconds()
    if silent > STALE_SECONDS:
        return f"tidak ada kabar {silent:.0f} detik"
    if job.pid and job.host == HOST and not process_alive(job.pid):
        return f"proses {job.pid} tidak berjalan lagi"
    return None


def process_alive(pid: int) -> bool:
    """The pid runs, is no zombie and is still a run-import-job (pids are reused)."""
    if not staging.pid_alive(pid):
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no /proc (not Linux): the heartbeat decides
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        command = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    # Empty while the process is being exec'd or is exiting: then its state tells.
    return state not in ("Z", "X") and (not command or b"run-import-job" in command)


def request_cancel(job_id: int) -> bool:
    """Ask the worker to stop; a job not started yet is cancelled at once."""
    asked = (ImportJob.update(cancel_requested=True)
             .where(ImportJob.id == job_id, ImportJob.status.in_(ACTIVE)).execute())
    if finish(job_id, "dibatalkan", only_if=("menunggu",)):
        files.remove_upload(get(job_id).path)
    return bool(asked)


def finish(job_id: int, status: str, *, only_if=ACTIVE, error: str = "", **counts) -> bool:
    """Move a job to a final status, once (a conditional update)."""
    return bool(ImportJob.update(status=status, finished_at=models.utcnow(), error=error,
                                 **counts)
                .where(ImportJob.id == job_id, ImportJob.status.in_(only_if)).execute())


def forget_old_uploads(keep: int, files_kept: int = 20) -> None:
    """When a new import starts: older uploads go (one kept for "the valid rows only" is no
    longer needed), and so do the result files beyond the latest `files_kept` jobs: the rejected
    rows hold personal data. The job rows stay, with their counts."""
    latest = [job.id for job in ImportJob.select(ImportJob.id)
              .order_by(ImportJob.id.desc()).limit(files_kept)]
    for job in ImportJob.select().where(ImportJob.id != keep,
                                        ImportJob.status.not_in(ACTIVE)):
        if job.id in latest:
            files.remove_upload(job.path)
        elif job.path.is_dir():
            shutil.rmtree(job.path, ignore_errors=True)
