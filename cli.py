"""Every flask command, in one place: the database, accounts, imports, demo data, retention.

Each command is a thin shell around the domain: it opens a connection, calls one function, and
prints what happened in Indonesian (one clear line on failure, never a traceback).
"""
from __future__ import annotations

import csv
import getpass
import os
import signal
import sqlite3
import sys

import click
from flask import current_app
from peewee import EXCLUDED, OperationalError, SqliteDatabase
from playhouse.migrations import Runner

import database
import models
from cases import retention
from errors import RuleError
from formats import number
from imports import demo, recipients, worker
from imports.jobs import STATUSES as JOB_STATUSES
from office import audit
from office.passwords import policy_problem, username_problem
from rice import handovers
from rice.models import Programme, format_kg
from settings import ROOT
from sms import gammu
from sms import worker as sms_rounds
from sms.channel import ChannelError
from web import assets, sms_desk, totp
from web.forms import region_code


def init_app(app):
    for command in (init_db, create_user, backup, restore, import_data, import_handovers,
                    seed_demo, run_import_job, anonymise_reports, reset_2fa, build_assets,
                    sms_setup, sms_worker):
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
            row["desil_maks"] = int(row["desil_maks"]) if row.get("desil_maks") else None
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


def read_new_password(username: str | None = None) -> str:
    """Ask twice without echo at a terminal; read two lines from a pipe for scripts."""
    if sys.stdin.isatty():
        first = getpass.getpass("Kata sandi: ")
        second = getpass.getpass("Ulangi kata sandi: ")
    else:
        first = sys.stdin.readline().rstrip("\r\n")
        second = sys.stdin.readline().rstrip("\r\n")
    if first != second:
        raise click.ClickException("Kedua kata sandi tidak sama.")
    problem = policy_problem(first, username)
    if problem:
        raise click.ClickException(problem)
    return first


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(models.ROLES), required=True)
@click.option("--kantor", help="Kode wilayah kantor: desa/kelurahan atau kecamatan.")
def create_user(username, role, kantor):
    """Create a staff account; the password is read twice (hidden, or two lines on stdin)."""
    if problem := username_problem(username):  # the web's rule (office/passwords.py)
        raise click.ClickException(problem)
    if kantor:
        kantor = region_code(kantor)  # 3510161001 or 35.10.16.1001
    with models.db.connection_context():
        if kantor and not models.Region.get_or_none(models.Region.kode == kantor):
            raise click.ClickException(f"Kode kantor {kantor} tidak dikenal.")
        if models.User.get_or_none(models.User.username == username):
            raise click.ClickException(f"Nama pengguna {username} sudah dipakai.")
        user = models.User(username=username, role=role, kantor=kantor or None)
        user.set_password(read_new_password(username))
        user.save()
        audit.record(audit.SYSTEM, "akun.buat", f"{username} ({role})")
    click.echo(f"Akun {username} ({role}) dibuat.")


PG_BACKUP_HELP = ("Basis data PostgreSQL: gunakan pg_dump untuk cadangan, misalnya "
                  "`pg_dump --format=custom --file=cadangan.dump \"$DATABASE_URL\"`, dan "
                  "pg_restore untuk memulihkan (lihat README).")


def _sqlite_only():
    if not isinstance(models.db.obj, SqliteDatabase):
        raise click.ClickException(PG_BACKUP_HELP)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False))
def backup(target):
    """Write a consistent copy of the SQLite database to TARGET while the app keeps running."""
    _sqlite_only()
    if os.path.exists(target):
        raise click.ClickException(f"{target} sudah ada; pilih nama file lain.")
    try:
        with models.db.connection_context():
            people, reports = database.backup_sqlite(models.db.connection(), target)
    except (sqlite3.Error, OSError) as exc:
        raise click.ClickException(f"Cadangan gagal dan tidak ditulis: {exc}") from None
    click.echo(f"Cadangan ditulis ke {target}: berisi {number(people)} penduduk, "
               f"{number(reports)} laporan.")


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
            database.copy_sqlite(backup_db, models.db.connection())
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


def _give_space_back() -> None:
    """After a failed, cancelled or undone import on SQLite: the WAL's space back on disk."""
    if isinstance(models.db.obj, SqliteDatabase):
        database.give_space_back(models.db)


WRITE_FAILED = ("Impor gagal, tidak ada yang tersimpan: basis data tidak dapat menulis ({}). "
                "Periksa ruang disk, lalu jalankan lagi.")
SKIP_HELP = "Impor baris yang benar saja; baris bermasalah dilaporkan dan dilewati."
SHEET_HELP = "Lembar (sheet) spreadsheet: nama atau nomor; bawaan: lembar pertama."
NOT_UTF8 = ("Berkas CSV ini bukan teks UTF-8. Simpan ulang sebagai “CSV UTF-8”, atau "
            "impor spreadsheet-nya langsung (.xlsx, .xls, .ods).")


@click.command("import-data")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help=SKIP_HELP)
@click.option("--sheet", help=SHEET_HELP)
@click.option("--skema", help="Skema untuk daftar berisi NIK dan nama saja.")
def import_data(path, skip_invalid, sheet, skema):
    """Import a recipient list (CSV, .xlsx, .xls or .ods; headers as people write them); unless
    written whole, the space its write-ahead log took is given back."""
    result = None
    try:
        with models.db.connection_context():
            result = recipients.import_register(path, skip_invalid=skip_invalid, sheet=sheet,
                                                skema=skema, progress=print_progress())
            audit.record(audit.SYSTEM, "impor", f"import-data {result.summary(path)}")
    except UnicodeDecodeError:
        raise click.ClickException(NOT_UTF8) from None
    except (OperationalError, sqlite3.OperationalError) as exc:
        raise click.ClickException(WRITE_FAILED.format(exc)) from None
    finally:
        if result is None or not result.written:
            _give_space_back()
    _report_problems(result)
    click.echo(
        f"Impor selesai: {number(result.rows)} baris. Penduduk: {number(result.people_added)} "
        f"baru, {number(result.people_updated)} diperbarui, "
        f"{number(result.people_unchanged)} tidak berubah. Kepesertaan: "
        f"{number(result.enrolled)} baru, {number(result.already_enrolled)} sudah ada."
        + _skipped(result))


@click.command("import-handovers")
@click.argument("programme_id", metavar="PROGRAMME_ID", type=int)
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-invalid", is_flag=True, help=SKIP_HELP)
@click.option("--sheet", help=SHEET_HELP)
def import_handovers(programme_id, path, skip_invalid, sheet):
    """Import rice hand-overs (CSV or spreadsheet: no_kk,tahap,tanggal,batch[,titik,nik])."""
    with models.db.connection_context():
        programme = Programme.get_or_none(Programme.id == programme_id)
        if programme is None:
            raise click.ClickException(f"Program beras nomor {programme_id} tidak ada.")
        try:
            result = handovers.import_handovers(programme, path, skip_invalid=skip_invalid,
                                                sheet=sheet, progress=print_progress())
        except UnicodeDecodeError:
            raise click.ClickException(NOT_UTF8) from None
        except (OperationalError, sqlite3.OperationalError) as exc:
            _give_space_back()
            raise click.ClickException(WRITE_FAILED.format(exc)) from None
        audit.record(audit.SYSTEM, "impor.beras", handovers.handover_summary(
            programme, path, result))
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
    audit_days = int(current_app.config["AUDIT_RETENTION_DAYS"])
    with models.db.connection_context():
        count = retention.anonymise(days)
        objectors = retention.anonymise_objections(days)
        purged = audit.purge(audit_days)
    click.echo(f"{count} laporan yang selesai lebih dari {days} hari dianonimkan.")
    click.echo(f"{objectors} penyanggah dari sanggahan yang diputus lebih dari {days} hari "
               "dianonimkan.")
    click.echo(f"{purged} catatan jejak audit yang lebih tua dari {audit_days} hari dihapus.")


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
        audit.record(audit.SYSTEM, "akun.2fa", username)
    click.echo(f"Verifikasi dua langkah akun {username} dihapus; semua sesinya diakhiri.")


@click.command("assets")
def build_assets():
    """Copy htmx into static/, digest and precompress (gzip, Brotli) every static file."""
    if assets.build(current_app):
        click.echo("Berkas statis diberi nama hash dan dikompresi (gzip, Brotli).")
    else:
        click.echo("Berkas statis sudah mutakhir.")


# --- SMS (sms/, README "SMS") ------------------------------------------------------------------

def _sms(action):
    """The channel's own refusals (SMS_URL unset or unusable) as one clear line."""
    try:
        return action()
    except ChannelError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("sms-setup")
@click.option("--modem", default=gammu.USB_MODEM["device"], show_default=True,
              help="Perangkat modem GSM untuk contoh gammu-smsdrc.")
def sms_setup(modem):
    """Create gammu-smsd's tables or folders for SMS_URL and print a gammu-smsdrc for it."""
    channel = _sms(sms_desk.channel)
    with models.db.connection_context():
        done = _sms(channel.setup)
    click.echo("\n".join(done) + "\n\n# /etc/gammu-smsdrc (isi kata sandi basis data bila ada)")
    click.echo(gammu.smsdrc(channel, {**gammu.USB_MODEM, "device": modem}))


@click.command("sms-worker")
@click.option("--once", is_flag=True, help="Satu putaran saja, lalu berhenti.")
@click.option("--batch", default=sms_rounds.BATCH, show_default=True,
              type=click.IntRange(1, 1000), help="Pesan per transaksi.")
def sms_worker(once, batch):
    """Answer received SMS and hand replies and case updates to gammu-smsd (a service)."""
    channel, desk = _sms(sms_desk.channel), sms_desk.desk()
    stopping = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.append(True))  # finish the round, then stop
    with models.db.connection_context():
        if once:
            done = sms_rounds.one_round(channel, desk, batch)
            click.echo(f"SMS: {done.received} diterima, {done.handed} diserahkan ke modem, "
                       f"{done.finished} selesai.")
            return
        click.echo(f"Pekerja SMS berjalan ({channel.name}); hentikan dengan Ctrl+C.")
        sms_rounds.run(channel, desk, limit=batch, stop=lambda: bool(stopping))
