"""The worker of a browser import: `flask run-import-job ID`, a process of its own.

It claims the queued job (a conditional update: exactly one worker can), runs
recipients.import_register with a progress callback, and records the outcome and the result files.
A heartbeat thread writes the progress and picks up a cancel request; see jobs.py for where the
job rows live and how a dead worker is recognised.
"""
from __future__ import annotations

import os
import threading
import traceback

from peewee import SqliteDatabase

import database
import models
from imports import files, recipients
from imports.jobs import BEAT_SECONDS, HOST, ImportJob, finish, jobs_db


class Heartbeat(threading.Thread):
    """Writes the import's progress every BEAT_SECONDS and picks up a cancel request.

    A thread of its own, with its own database connection: the import's thread stays inside its
    transaction, and the progress callback only stores three numbers and reads one flag.
    """

    def __init__(self, job_id: int):
        super().__init__(daemon=True)
        self.job_id = job_id
        self.state = ("", 0, 0)
        self.cancelled = threading.Event()
        self.stopped = threading.Event()

    def progress(self, phase: str, done: int, total: int) -> bool:
        self.state = (phase, done, total)
        return self.cancelled.is_set()

    def run(self) -> None:
        try:
            while True:
                phase, done, total = self.state
                try:
                    (ImportJob.update(heartbeat_at=models.utcnow(), phase=phase, done=done,
                                      total=total)
                     .where(ImportJob.id == self.job_id).execute())
                    if ImportJob.select(ImportJob.cancel_requested).where(
                            ImportJob.id == self.job_id).scalar():
                        self.cancelled.set()
                except Exception:  # noqa: BLE001 - a busy store must not end the import
                    pass
                if self.stopped.wait(BEAT_SECONDS):
                    return
        finally:
            if not jobs_db.is_closed():
                jobs_db.close()


def claim(job_id: int) -> ImportJob | None:
    """Take a queued job (exactly one worker can); None if it is not queued any more."""
    now = models.utcnow()
    taken = (ImportJob.update(status="berjalan", started_at=now, heartbeat_at=now,
                              pid=os.getpid(), host=HOST)
             .where(ImportJob.id == job_id, ImportJob.status == "menunggu",
                    ImportJob.cancel_requested == False)  # noqa: E712
             .execute())
    if not taken:
        finish(job_id, "dibatalkan", only_if=("menunggu",))
        return None
    return ImportJob.get_by_id(job_id)


def run(job_id: int) -> str:
    """Run one job to its end; returns the final status. First of all, an import that died
    while writing is rolled back (recipients.recover), whichever job it was."""
    with models.db.connection_context():
        recipients.recover()
    job = claim(job_id)
    if job is None:
        return ImportJob.get_by_id(job_id).status
    beat = Heartbeat(job_id)
    beat.start()
    status, error, counts = "gagal", "", {}
    chosen = files.options(job.path)
    try:
        with models.db.connection_context():
            result = recipients.import_register(
                str(job.path / files.UPLOAD), skip_invalid=job.skip_invalid,
                progress=beat.progress, sumber=f"impor:{job.filename} (unggahan {job.id})",
                sheet=chosen.get("lembar"), skema=chosen.get("skema"))
        if result.cancelled:
            status = "dibatalkan"
        else:
            status = "selesai" if result.written else "ditolak"
            if result.needs_mapping:
                files.save_header(job.path, result.header)  # the page offers to map them
            files.write_problem_files(job.path, result.problems, chosen.get("lembar"))
            counts = dict(rows=result.rows, problems=len(result.problems),
                          problem_rows=result.skipped, people_added=result.people_added,
                          people_updated=result.people_updated,
                          people_unchanged=result.people_unchanged, enrolled=result.enrolled,
                          already_enrolled=result.already_enrolled)
            if not result.written and any(p.line == 0 for p in result.problems):
                error = next(p.message for p in result.problems if p.line == 0)
    except UnicodeDecodeError:
        error = ("Berkas bukan teks UTF-8. Di Excel, simpan dengan “Save as” lalu pilih "
                 "“CSV UTF-8 (Comma delimited)”, kemudian unggah lagi.")
    except Exception:  # noqa: BLE001 - whatever it was, the job must end as failed
        traceback.print_exc()
        error = ("Terjadi kesalahan di server saat impor; tidak ada data yang disimpan. "
                 f"Catatan teknis ada di log proses impor ({job.path / 'proses.log'}).")
    finally:
        beat.stopped.set()
        beat.join(timeout=5)
    # The worker knows best: a page that took a starved heartbeat for a dead worker is corrected.
    finish(job_id, status, error=error, only_if=("berjalan", "terputus"), **counts)
    if status in ("gagal", "dibatalkan") and isinstance(models.db.obj, SqliteDatabase):
        database.give_space_back(models.db)  # what the undone write took in the WAL
    if status != "ditolak":  # a refused file may be run again with its valid rows only
        files.remove_upload(job.path)
    return status
