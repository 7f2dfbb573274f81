"""What covers a NIK: the register's one covering query, and what it forbids.

This is the single implementation of the covering rule (one scheme per NIK, the family rule):
the public check, reports, decisions, the bulk check and the import all ask it. It reads the
tables by raw SQL (the check's hot path), so it needs the database but none of the models.
"""
from __future__ import annotations

from typing import NamedTuple

from database import db, replica
from vocabulary import LEVELS


class Coverage(NamedTuple):
    """The register's answer to "what covers this NIK?"."""

    status: str  # terdaftar | keluarga-terdaftar | belum-terdaftar
    nama: str | None = None  # the person's own name, when the register knows them
    desa: str | None = None
    no_kk: str | None = None
    skema: str | None = None
    skema_nama: str | None = None
    tingkat: str | None = None
    via_nik: str | None = None  # whose enrolment covers them

    @property
    def covered(self) -> bool:
        return self.status != "belum-terdaftar"

    @property
    def level_label(self) -> str:
        return LEVELS.get(self.tingkat or "", "")


# The covering query is the NIK check's hot path: one indexed lookup, compiled once per
# database backend and run through the DB-API, because Peewee's query builder alone would cost
# many times the lookup itself. Both joins hit the partial unique indexes on active enrolments.
_COVERAGE_SQL = """
SELECT p.nik AS c_nik, p.nama AS c_nama, d.nama AS c_desa, p.no_kk AS c_kk,
       s1.kode AS own_kode, s1.nama AS own_nama, s1.tingkat AS own_tingkat, e1.nik AS own_nik,
       s2.kode AS kk_kode, s2.nama AS kk_nama, s2.tingkat AS kk_tingkat, e2.nik AS kk_nik
FROM (SELECT CAST({p} AS VARCHAR(16)) AS nik, CAST({p} AS VARCHAR(16)) AS kk) AS q
LEFT JOIN penduduk p ON p.nik = q.nik
LEFT JOIN wilayah d ON d.kode = p.desa_kode
LEFT JOIN kepesertaan e1 ON e1.nik = q.nik AND e1.berakhir IS NULL
LEFT JOIN skema s1 ON s1.kode = e1.skema_kode
LEFT JOIN kepesertaan e2 ON e2.family_kk = COALESCE(q.kk, p.no_kk) AND e2.berakhir IS NULL
LEFT JOIN skema s2 ON s2.kode = e2.skema_kode
"""
_compiled: dict[str, str] = {}
COLUMNS = 12  # the covering query's columns; a query built on it (cases/lookup) adds its own


def coverage_sql(database) -> str:
    """The covering query for this database (its parameters: the NIK, a typed No. KK or None);
    its columns are named, so another query may select from it."""
    sql = _compiled.get(database.param)
    if sql is None:
        sql = _compiled[database.param] = _COVERAGE_SQL.format(p=database.param)
    return sql


def covering(nik: str, no_kk: str | None = None, *, read_only: bool = False) -> Coverage:
    """What covers this NIK: its own active enrolment, or a family enrolment of its No. KK.

    `no_kk` is a family card number typed by a reporter; when given it is checked as well as the
    one the register holds for the NIK. This is the single implementation of the rule: the check,
    reports and decisions all call it.
    """
    database = replica if read_only and replica.obj is not None else db
    sql = coverage_sql(database)
    row = database.execute_sql(sql, (nik, no_kk)).fetchone()
    coverage = coverage_from_row(row)
    if not coverage.covered and no_kk and row[3] and row[3] != no_kk:
        # The typed card was checked above; the register's own card of this NIK still counts.
        coverage = coverage_from_row(database.execute_sql(sql, (nik, None)).fetchone())
    return coverage


def coverage_from_row(row) -> Coverage:
    """The Coverage of a row of the covering query (its first COLUMNS columns)."""
    nik, nama, desa, no_kk = row[0:4]
    if row[4] is not None:
        return Coverage("terdaftar", nama, desa, no_kk, *row[4:8])
    if row[8] is not None:
        return Coverage("keluarga-terdaftar", nama, desa, no_kk, *row[8:12])
    return Coverage("belum-terdaftar", nama, desa, no_kk)


def enrolment_conflict(scheme_unit: str, own: str | None, family: str | None,
                       member: tuple[str, str] | None) -> str | None:
    """Why an enrolment may not be made, or None; pure, so bulk imports apply the same rule.

    own: the scheme the NIK is enrolled in; family: the family scheme covering its No. KK;
    member: (nik, scheme) of another family member's own enrolment, for family schemes only.
    """
    if own:
        return f"NIK ini sudah terdaftar sebagai penerima {own}."
    if family:
        return f"Keluarga NIK ini (No. KK yang sama) sudah menerima {family}."
    if scheme_unit == "keluarga" and member:
        return (f"Anggota keluarga dengan NIK {member[0]} sudah menerima {member[1]}; "
                "satu keluarga hanya boleh menerima satu bantuan.")
    return None


class Standing(NamedTuple):
    """Everything the register's rules weigh before enrolling a NIK: what covers it, and
    another member of its family card who holds a scheme of their own (which rules out a
    family scheme, but not a personal one)."""

    coverage: Coverage
    member: tuple[str, str] | None = None  # (nik, scheme) of another member's own enrolment

    @property
    def own(self) -> str | None:
        return self.coverage.skema if self.coverage.status == "terdaftar" else None

    @property
    def family(self) -> str | None:
        return self.coverage.skema if self.coverage.status == "keluarga-terdaftar" else None

    def conflict(self, scheme_unit: str) -> str | None:
        """Why a scheme of this unit (keluarga | individu) may not be given, or None."""
        return enrolment_conflict(scheme_unit, self.own, self.family,
                                  self.member if scheme_unit == "keluarga" else None)


_MEMBER_SQL = """
SELECT e.nik, e.skema_kode FROM kepesertaan e JOIN penduduk p ON p.nik = e.nik
WHERE p.no_kk = {p} AND e.berakhir IS NULL AND e.nik <> {p} ORDER BY e.nik
"""


def standing(nik: str, no_kk: str | None = None) -> Standing:
    """The register's standing of a NIK: the one answer both models.enrol (the decision) and
    the reviewer's case page (its scheme list) read, so the page never promises what the
    decision then refuses. `no_kk` is the family card to weigh when the register has none."""
    coverage = covering(nik, no_kk)
    card = coverage.no_kk or no_kk
    member = None
    if card:
        sql = _MEMBER_SQL.format(p=db.param)
        row = db.execute_sql(sql, (card, nik)).fetchone()
        member = (row[0], row[1]) if row else None
    return Standing(coverage, member)


def scheme_verdicts(found: Standing, schemes) -> list[tuple[object, bool, str]]:
    """For each scheme (with .kode and .satuan): whether the rules allow it, and why not."""
    verdicts = []
    for scheme in schemes:
        problem = found.conflict(scheme.satuan)
        verdicts.append((scheme, problem is None, problem or ""))
    return verdicts
