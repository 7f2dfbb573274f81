"""Every flask command, in one place: the database, accounts, imports, demo data, retention.

Each command is a thin shell around the domain: it opens a connection, calls one function, and
prints what happened in Indonesian (one clear line on failure, never a traceback).
"""
from __future__ import annotations

import csv
import getpass
import os
import sqlite3
import sys

import click
from flask import current_app
from peewee import EXCLUDED, SqliteDatabase
from playhouse.migrations import Runner

import models
from cases import retention
from errors import RuleError
from formats import number
from imports import demo, recipients, worker
from imports.jobs import STATUSES as JOB_STATUSES
from office.passwords import policy_problem
from rice import handovers
from rice.models import Programme, format_kg
from settings import ROOT
from web import totp
from web.forms import region_code


def init_app(app):
    for command in (init_db, create_user, backup, restore, import_data, import_handovers,
                    seed_demo, run_import_job, anonymise_reports, reset_2fa):
        app.cli.add_command(command)


def migrate() -> list[str]:
    """Apply every pending migration; returns the names applied."""
    return Runner(models.db.obj, str(ROOT / "migrations")).up()


def load_reference_data() -> tuple[int, int]:
    """Insert or refresh the Banyuwangi regions and the aid schemes; safe to run again."""
    with open(ROOT / "data" / "wilayah_banyuwangi.csv", newline="", encoding="utf-8") as fh:
        regions = [
            {"kode": r["code"], "nama": r["name"], "tingkat": r["level"],
             "kecamatan": None if r["level"] == "kecamatan" else r["code"][:8]}
            for r in csv.DictReader(fh)
        ]
    with open(ROOT / "data" / "schemes.csv", newline="", encoding="utf-8") as fh:
        schemes = list(csv.DictReader(fh))
    Region, Scheme = models.Region, models.Scheme
    with models.db.atomic():
        # Kecamatan first: villages refer to them.
        regions.sort(key=lambda r: r["tingkat"] != "kecamatan")
        Region.insert_many(regions).on_conflict(
            conflict_target=[Region.kode],
            update={Region.nama: EXCLUDED.nama},
        ).execute()
        for row in schemes:
            # Only insert: an admin may have renamed or deactivated a scheme since.
            Scheme.insert(**row).on_conflict_ignore().execute()
    return len(regions), len(schemes)


@click.command("init-db")
def init_db():
    """Create or upgrade the database schema and load the reference data (safe to rerun)."""
    with models.db.connection_context():
        applied = migrate()
        regions, schemes = load_reference_data()
    for name in applied:
        click.echo(f"migrasi diterapkan: {name}")
    click.echo(f"Basis data siap: {regions} wilayah, {schemes} skema.")


def read_new_password() -> str:
    """Ask twice without echo at a terminal; read two lines from a pipe for scripts."""
    if sys.stdin.isatty():
        first = getpass.getpass("Kata sandi: ")
        second = getpass.getpass("Ulangi kata sandi: ")
    else:
        first = sys.stdin.readline().rstrip("\r\n")
        second = sys.stdin.readline().rstrip("\r\n")
    if first != second:
        raise click.ClickException("Kedua kata sandi tidak sama.")
    problem = policy_problem(first)
    if problem:
        raise click.ClickException(problem)
    return first


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(models.ROLES), required=True)
@click.option("--kantor", help="Kode wilayah kantor: desa/kelurahan atau kecamatan.")
def create_user(username, role, kantor):
    """Create a staff account; the password is read twice (hidden, or two lines on stdin)."""
    if kantor:
        kantor = region_code(kantor)  # 3510161001 or 35.10.16.1001
    with models.db.connection_context():
        if kantor and not models.Region.get_or_none(models.Region.kode == kantor):
            raise click.ClickException(f"Kode kantor {kantor} tidak dikenal.")
        if models.User.get_or_none(models.User.username == username):
            raise click.ClickException(f"Nama pengguna {username} sudah dipakai.")
        user = models.User(username=username, role=role, kantor=kantor or None)
        user.set_password(read_new_password())
        user.save()
    click.echo(f"Akun {username} ({role}) dibuat.")


PG_BACKUP_HELP = ("Basis data PostgreSQL: gunakan pg_dump untuk cadangan, misalnya "
                  "`pg_dump --format=custom --file=cadangan.dump \"$DATABASE_URL\"`, dan "
                  "pg_restore untuk memulihkan (lihat README).")


def _sqlite_only():
    if not isinstance(models.db.obj, SqliteDatabase):
        raise click.ClickException(PG_BACKUP_HELP)


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    # SQLite's online backup API: a consistent snapshot even while gunicorn workers write.
    source.backup(target, pages=1024)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False))
def backup(target):
    """Write a consistent copy of the SQLite database to TARGET while the app keeps running."""
    _sqlite_only()
    if os.path.exists(target):
        raise click.ClickException(f"{target} sudah ada; pilih nama file lain.")
    with models.db.connection_context():
        out = sqlite3.connect(target)
        try:
            _copy(models.db.connection(), out)
        finally:
            out.close()
        reports = models.Report.select().count()
        people = models.Person.select().count()
    click.echo(f"Cadangan ditulis ke {target}: {people} penduduk, {reports} laporan.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Jangan tanya konfirmasi.")
def restore(source, yes):
    """Replace the SQLite database's contents with the backup SOURCE (stop the app first)."""
    _sqlite_only()
    backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        if backup_db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException(f"{source} rusak: pemeriksaan integritas gagal.")
        if not yes:
            click.confirm("Seluruh isi basis data akan diganti dengan cadangan. Lanjutkan?",
                          abort=True)
        with models.db.connection_context():
            _copy(backup_db, models.db.connection())
            migrate()  # a backup from an older version is brought up to date
            reports = models.Report.select().count()
    finally:
        backup_db.close()
    click.echo(f"Basis data dipulihkan dari {source}: {reports} laporan.")


# --- Imports ---------------------------------------------------------------------------------

def print_progress(every: int = 200_000):
    """A progress callback for the command line: a line on stderr at most every `every` rows
    of each phase, so small files stay quiet."""
    shown: dict[str, int] = {}

    def progress(phase: str, done: int, total: int) -> None:
        final = bool(total) and done == total
        if (done - shown.get(phase, 0) >= every and not final) or (
                final and phase in shown and shown[phase] != done):
            shown[phase] = done
            of = f" dari {number(total)}" if total else ""
            click.echo(f"{phase}: {number(done)}{of} baris", err=True)

    return progress


def _report_problems(result) -> None:
    """Every problem by line; when nothing was written, say so and exit with status 1."""
    for problem in result.problems:
        click.echo(str(problem))
    if not result.written:
        click.echo(f"Impor dibatalkan: {number(len(result.problems))} masalah pada "
                   f"{number(result.skipped)} baris. Tidak ada data yang disimpan.")
        sys.exit(1)


def _skipped(result) -> str:
    return f" {number(result.skipped)} baris bermasalah dilewati." if result.skipped else ""


SKIP_HELP = "Impor baris yang benar saja; baris bermasalah dilaporkan dan dilewati."


@click.command("import-data")
@click.argument("path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help=SKIP_HELP)
def import_data(path, skip_invalid):
    """Import a recipient list (CSV: nik,no_kk,nama,alamat,kode_desa,skema)."""
    with models.db.connection_context():
        result = recipients.import_register(path, skip_invalid=skip_invalid,
                                            progress=print_progress())
    _report_problems(result)
    click.echo(
        f"Impor selesai: {number(result.rows)} baris. Penduduk: {number(result.people_added)} "
        f"baru, {number(result.people_updated)} diperbarui, "
        f"{number(result.people_unchanged)} tidak berubah. Kepesertaan: "
        f"{number(result.enrolled)} baru, {number(result.already_enrolled)} sudah ada."
        + _skipped(result))


@click.command("import-handovers")
@click.argument("programme_id", metavar="PROGRAMME_ID", type=int)
@click.argument("path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help=SKIP_HELP)
def import_handovers(programme_id, path, skip_invalid):
    """Import rice hand-overs (CSV: no_kk,tahap,tanggal,batch[,titik,nik]) into a programme."""
    with models.db.connection_context():
        programme = Programme.get_or_none(Programme.id == programme_id)
        if programme is None:
            raise click.ClickException(f"Program beras nomor {programme_id} tidak ada.")
        result = handovers.import_handovers(programme, path, skip_invalid=skip_invalid,
                                            progress=print_progress())
    _report_problems(result)
    click.echo(f"Impor selesai: {number(result.rows)} baris. Penyerahan baru: "
               f"{number(result.added)} ({format_kg(result.added * programme.gram_per_tahap)})"
               f", sudah tercatat sebelumnya: {number(result.already)}." + _skipped(result))


@click.command("run-import-job")
@click.argument("job_id", type=int)
def run_import_job(job_id):
    """Run an uploaded import (started by the /admin/impor page; by hand only to debug)."""
    status = worker.run(job_id)
    click.echo(f"impor {job_id}: {JOB_STATUSES[status]}")


@click.command("seed-demo")
@click.option("--people", default=20_000, show_default=True, type=click.IntRange(1, 3_000_000),
              help="Jumlah penduduk sintetis.")
@click.option("--seed", "seed_value", default=1, show_default=True, type=int,
              help="Benih acak: benih yang sama menghasilkan data yang sama.")
def seed_demo(people, seed_value):
    """Fill an empty register with synthetic families, demo staff accounts and reports."""
    with models.db.connection_context():
        if not models.Region.select().exists():
            raise click.ClickException("Basis data belum siap: jalankan dulu "
                                       "`flask --app app init-db`.")
        existing = models.Person.select().count()
        if existing:
            raise click.ClickException(
                f"Data penduduk sudah berisi {existing} orang. seed-demo hanya mengisi basis "
                "data yang masih kosong, agar data nyata tidak tercampur data palsu. Pakai "
                "basis data lain, misalnya DATABASE_URL=sqlite:////tmp/demo.db.")
        try:
            info = demo.seed(people, seed_value, progress=print_progress())
        except RuleError as exc:
            raise click.ClickException(str(exc)) from None
        checks = {status: models.covering(person.nik)
                  for status, person in info["samples"].items()}
    tally = info["tally"]
    click.echo(f"Data demo siap: {tally.people} penduduk dalam {tally.families} keluarga di "
               f"{len(tally.villages)} desa/kelurahan; kepesertaan per skema: "
               + ", ".join(f"{k} {v}" for k, v in sorted(tally.enrolled.items())) + ".")
    click.echo("\nNIK untuk dicoba di halaman Cek (/):")
    for status in ("terdaftar", "keluarga-terdaftar", "belum-terdaftar"):
        person = info["samples"].get(status)
        if person is not None:
            coverage = checks[status]
            via = f" ({coverage.skema}, tingkat {coverage.level_label})" if coverage.skema else ""
            click.echo(f"  {status:<19} {person.nik}{via}")
    if "belum-terdaftar" in info["samples"]:
        nik = info["samples"]["belum-terdaftar"].nik
        click.echo(f"  {'tidak-valid':<19} {nik[:8]}13{nik[10:]} (bulan lahir 13)")
    click.echo("\nAkun petugas demo (kata sandi hanya ditampilkan sekali ini; masuk di /masuk):")
    for username, role, kantor, _user, password in info["accounts"]:
        office = f", kantor {kantor}" if kantor else ""
        shown = password or "(akun sudah ada; kata sandi tidak diubah)"
        click.echo(f"  {username:<12} peran {role}{office}: {shown}")
    outcomes = info["reports"]
    click.echo(f"\nLaporan demo: {sum(outcomes.values())} "
               f"({outcomes.get('baru', 0)} menunggu penilaian, "
               f"{outcomes.get('ditolak', 0)} ditolak otomatis, "
               f"{outcomes.get('gabung', 0)} digabung).")


# --- Retention and accounts ------------------------------------------------------------------

@click.command("anonymise-reports")
@click.option("--older-than-days", type=click.IntRange(min=0), default=None,
              help="Hapus data pribadi laporan yang sudah selesai lebih dari N hari "
                   "(bawaan: RETENTION_DAYS, 730).")
def anonymise_reports(older_than_days):
    """Anonymise closed reports older than the retention period (for cron)."""
    days = older_than_days if older_than_days is not None else int(
        current_app.config["RETENTION_DAYS"])
    with models.db.connection_context():
        count = retention.anonymise(days)
    click.echo(f"{count} laporan yang selesai lebih dari {days} hari dianonimkan.")


@click.command("reset-2fa")
@click.argument("username")
def reset_2fa(username):
    """Remove USERNAME's second factor (a lost phone) and end all of that user's sessions.

    An admin is asked to enrol a new authenticator at the next sign-in.
    """
    with models.db.connection_context():
        user = models.User.get_or_none(models.User.username == username)
        if user is None:
            raise click.ClickException(f"Akun {username} tidak ada.")
        totp.disable(user)
        user.end_sessions()
    click.echo(f"Verifikasi dua langkah akun {username} dihapus; semua sesinya diakhiri.")
