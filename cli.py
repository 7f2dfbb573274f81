"""Flask commands: init-db, create-user (import-data and seed-demo live in their own modules)."""
from __future__ import annotations

import csv
import getpass
import sys

import click
from peewee import EXCLUDED
from playhouse.migrations import Runner

import models
from app import ROOT


def init_app(app):
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)


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
    with models.db.connection_context():
        if kantor and not models.Region.get_or_none(models.Region.kode == kantor):
            raise click.ClickException(f"Kode kantor {kantor} tidak dikenal.")
        if models.User.get_or_none(models.User.username == username):
            raise click.ClickException(f"Nama pengguna {username} sudah dipakai.")
        user = models.User(username=username, role=role, kantor=kantor or None)
        user.set_password(read_new_password())
        user.save()
    click.echo(f"Akun {username} ({role}) dibuat.")
