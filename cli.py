"""Flask commands: init-db, create-user, backup, restore (import-data and seed-demo live in
their own modules)."""
from __future__ import annotations

import csv
import getpass
import os
import sqlite3
import sys

import click
from peewee import EXCLUDED, SqliteDatabase
from playhouse.migrations import Runner

import demo
import importer
import models
from app import ROOT


def init_app(app):
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(importer.import_data)
    app.cli.add_command(demo.seed_demo)


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
    if len(first) < 8:
        raise click.ClickException("Kata sandi minimal 8 karakter.")
    return first


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(models.ROLES), required=True)
@click.option("--kantor", help="Kode wilayah kantor: desa/kelurahan atau kecamatan.")
def create_user(username, role, kantor):
    """Create a staff account; the password is read twice (hidden, or two lines on stdin)."""
    if kantor:
        from forms import region_code

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
