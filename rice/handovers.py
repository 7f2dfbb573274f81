"""Import of rice hand-overs recorded elsewhere (a warehouse's or the post office's list): CSV,
or a spreadsheet (.xlsx, .xls, .ods) read by the same reader as the recipient lists.

The same checks as the counter, with every problem reported by line number, and all-or-nothing
unless asked to skip bad rows: the family is on the programme's list, the stage exists, the
batch passed its cooking test on or before the hand-over date, one hand-over per family and
stage (in the file and against the database). A row that repeats an imported hand-over (same
date, batch and distribution point) changes nothing, so re-importing a file is harmless; a row for
a family already served at a counter is refused.

Built like the register import (recipients.py, bulk.py; files read by readers.py): rows checked
against reference data read once, kept as compact sorted strings, then one transaction of DB-API
executemany calls.

Columns (found from the header as people write it, imports/headers.py): no_kk, tahap, tanggal,
batch; optional titik (distribution point) and nik (who collected; with no_kk empty it also finds
the family through the register).
"""
from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass

import peewee
from peewee import IntegrityError, SqliteDatabase

import models
from formats import long_date
from formats import parse_date as _parse_date
from imports import bulk
from imports.bulk import BATCH, LINE_BASE, REBUILD_AT, SEP, Cancelled, Problem
from imports.headers import Columns, header_test
from imports.readers import NIK_SHAPE, FileResult, TableError, open_table
from nik import NikError, parse_nik, parse_no_kk
from rice.distribution import batch_code, batch_problem
from rice.models import BIG_CHANGE, Batch, Programme, refresh_statistics

FIELDS = ("no_kk", "tahap", "tanggal", "batch", "titik", "nik")
CHUNK = 500  # family cards per query against the database

Progress = Callable[[str, int, int], "bool | None"]


@dataclass
class HandoverImportResult(FileResult):
    added: int = 0
    already: int = 0  # rows imported before (same date, batch and point): nothing to do
    header: tuple = ()  # the file's header row, as written
    needs_mapping: bool = False  # required columns not recognised: map them in the browser


def import_handovers(programme: Programme, source, *, skip_invalid: bool = False,
                     progress: Progress | None = None, sumber: str | None = None,
                     petugas_id: int | None = None,
                     sheet: str | None = None) -> HandoverImportResult:
    """Import hand-overs for `programme` from a path (CSV or spreadsheet; `sheet` names the
    sheet, else the first) or a text stream of CSV; see the module doc."""
    if sumber is None and isinstance(source, str | os.PathLike):
        sumber = f"impor:{os.path.basename(source)}"
    report = progress or (lambda phase, done, total: None)
    result = HandoverImportResult()
    try:
        programme.sync_families()  # families enrolled since the list was made are due too
        with open_table(source, sheet, header_test("beras")) as reader:
            rows = _read(programme, reader, result, report)
        if rows is not None:
            _drop_duplicates(rows, result)
            _check_and_write(programme, rows, result, report, skip_invalid=skip_invalid,
                             sumber=(sumber or "impor")[:200], petugas_id=petugas_id)
    except TableError as exc:
        result.problems.append(Problem(0, str(exc)))
    except Cancelled:
        result.cancelled, result.written = True, False
    result.finish()
    return result


def handover_summary(programme: Programme, filename: str, result: HandoverImportResult) -> str:
    """What the audit log says of a hand-over import: the file and its outcome, no number."""
    summary = result.summary(filename, f"{result.added} penyerahan baru")
    return f"program {programme.id}, {summary}"[:200]


class _Checker:
    """The checks of one row: a fast path for rows that pass everything, else every message."""

    def __init__(self, programme: Programme):
        self.programme = programme
        self.families = {}
        kecamatan: dict[str, str] = {}
        for kk, kec in models.db.execute_sql(
                "SELECT no_kk, kecamatan_kode FROM penerima_beras WHERE program_id = "
                f"{models.db.param}", (programme.id,)):
            self.families[kk] = kecamatan.setdefault(kec, kec)
        self.stages = {}
        for tahap in programme.stage_numbers:
            self.stages[str(tahap)] = self.stages[f"{tahap:02d}"] = tahap
        self.batches = {(b.tahap, b.kode): b for b in
                        Batch.select().where(Batch.programme == programme.id)}
        self.cleared = {key: (str(b.id), b.lulus_tanggal.isoformat())
                        for key, b in self.batches.items() if b.status == "layak"}
        self.today = models.today()
        self.dates: dict[str, str | None] = {}  # as typed -> ISO date, None if not a past date
        self.nik_dates: set[str] = set()  # DDMMYY parts parse_nik accepted

    def row(self, line, no_kk, tahap, tanggal, batch, titik, nik, problems) -> str | None:
        """The compact row "NO_KK|TT|LINE|DATE|BATCH_ID|KECAMATAN|TITIK|NIK", or None after
        adding this line's problems."""
        kec = self.families.get(no_kk)
        t = self.stages.get(tahap)
        day = self.dates.get(tanggal, "")
        if day == "":
            parsed = _parse_date(tanggal)
            day = self.dates[tanggal] = (parsed.isoformat() if parsed and parsed <= self.today
                                         else None)
        cleared = self.cleared.get((t, batch))
        if (kec and day and cleared and day >= cleared[1] and len(titik) <= 150
                and (not nik or (NIK_SHAPE(nik) and nik[6:12] in self.nik_dates))):
            return SEP.join((no_kk, f"{t:02d}", str(LINE_BASE + line), day, cleared[0], kec,
                             titik, nik))
        messages = self._messages(no_kk, tahap, tanggal, batch, titik, nik)
        if messages:
            problems.extend(Problem(line, m) for m in messages)
            return None
        # Valid once cleaned (spaces in the numbers, a batch code typed in lower case).
        no_kk, t = parse_no_kk(no_kk), self.stages[tahap]
        found = self.batches[(t, batch_code(batch))]
        return SEP.join((no_kk, f"{t:02d}", str(LINE_BASE + line),
                         _parse_date(tanggal).isoformat(), str(found.id), self.families[no_kk],
                         titik, parse_nik(nik).nik if nik else ""))

    def _messages(self, no_kk, tahap, tanggal, batch, titik, nik) -> list[str]:
        messages = []
        if nik:
            try:
                self.nik_dates.add(parse_nik(nik).nik[6:12])
            except NikError as exc:
                messages.append(f"NIK pengambil: {exc}")
        if not no_kk:
            messages.append("No. KK wajib diisi (atau NIK anggota keluarga yang terdaftar di "
                            "data penduduk).")
        else:
            try:
                if parse_no_kk(no_kk) not in self.families:
                    messages.append(
                        f"Keluarga dengan No. KK {no_kk} tidak ada di daftar penerima program "
                        f"ini (bukan keluarga penerima {self.programme.skema_kode}).")
            except NikError as exc:
                messages.append(str(exc))
        t = self.stages.get(tahap)
        if t is None:
            messages.append(f"Tahap {tahap or '(kosong)'} tidak ada: program ini punya tahap 1 "
                            f"sampai {self.programme.jumlah_tahap}.")
        day = None
        if not tanggal:
            messages.append("Tanggal penyerahan wajib diisi, misalnya 12-05-2020.")
        else:
            day = _parse_date(tanggal)
            if day is None:
                messages.append(f"Tanggal {tanggal} tidak dikenal: tulis HH-BB-TTTT, misalnya "
                                "12-05-2020.")
            elif day > self.today:
                messages.append(f"Tanggal {tanggal} belum terjadi.")
                day = None
        kode = batch_code(batch)
        if not kode:
            messages.append("Kode batch wajib diisi.")
        elif t is not None:
            found = self.batches.get((t, kode))
            if found is None:
                messages.append(f"Batch {kode} tidak dikenal untuk tahap {t}: catat dulu uji "
                                "tanaknya.")
            elif day is not None:
                problem = batch_problem(found, self.programme, t, day)
                if problem:
                    messages.append(problem)
        if len(titik) > 150:
            messages.append(f"Titik penyaluran terlalu panjang ({len(titik)} huruf; paling "
                            "banyak 150).")
        return messages


def _read(programme: Programme, reader, result, report) -> list[str] | None:
    """Check every row in file order; the compact rows, or None for a bad header."""
    found = Columns("beras", reader.header)
    problem = found.problem(" (titik dan nik boleh ada), atau petakan kolomnya sekali di "
                            "halaman Impor program beras: pemetaan itu dipakai lagi untuk "
                            "berkas berjudul sama")
    if problem:
        result.header, result.needs_mapping = tuple(reader.header), True
        result.problems.append(Problem(reader.header_line, problem))
        return None
    columns = [found.index.get(f) for f in FIELDS]
    checker = _Checker(programme)
    rows: list[str] = []
    pending: list[tuple] = []  # rows naming the family by a member's NIK only
    add, problems = rows.append, result.problems
    for first, fields in reader.records(problems, report, BATCH):
        no_kk, tahap, tanggal, batch, titik, nik = (
            fields[i].strip() if i is not None else "" for i in columns)
        if not no_kk and nik:
            pending.append((first, tahap, tanggal, batch, titik, nik))
            continue
        row = checker.row(first, no_kk, tahap, tanggal, batch, titik, nik, problems)
        if row is not None:
            add(row)
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start:start + CHUNK]
        niks = [p[5] for p in chunk]
        cards = dict(models.db.execute_sql(
            f"SELECT nik, no_kk FROM penduduk WHERE nik IN ({bulk._marks(niks)})", niks))
        for first, tahap, tanggal, batch, titik, nik in chunk:
            if nik not in cards:
                try:
                    parse_nik(nik)
                    problems.append(Problem(first, "No. KK kosong dan NIK ini tidak ada di data "
                                                   "penduduk: isi No. KK keluarganya."))
                except NikError as exc:
                    problems.append(Problem(first, str(exc)))
                continue
            row = checker.row(first, cards[nik] or "", tahap, tanggal, batch, titik, nik,
                              problems)
            if row is not None:
                add(row)
    result.rows = count = reader.count
    report("membaca", count, count)
    return rows


def _drop_duplicates(rows: list[str], result) -> None:
    """Sort by family card, stage and line; a later row of the same card and stage is a problem
    and is removed (set to None)."""
    rows.sort()
    previous = first = None
    for i, row in enumerate(rows):
        key = row[:19]  # NO_KK SEP TT
        if key == previous:
            result.problems.append(Problem(
                int(row[20:30]) - LINE_BASE,
                f"Keluarga ini (No. KK {row[:16]}) sudah tercatat menerima tahap {int(row[17:19])}"
                f" di baris {first}; satu keluarga menerima satu kali per tahap."))
            rows[i] = None
        else:
            previous, first = key, int(row[20:30]) - LINE_BASE


def _check_and_write(programme, rows, result, report, *, skip_invalid, sumber, petugas_id):
    """Inside one transaction: check batches and earlier hand-overs again, then write."""
    db = models.db
    try:
        # The wrapper turns the driver's errors on raw cursors into Peewee's (IntegrityError).
        with bulk._bulk_session(), db.atomic(), peewee.__exception_wrapper__:
            refused = _against_database(programme, rows, result, report)
            if result.problems and not skip_invalid:
                return
            _write(programme, rows, refused, result, report, sumber, petugas_id)
    except IntegrityError:
        # PostgreSQL only (SQLite holds the write lock throughout): a counter recorded one of
        # these families between our check and our write. The unique index held.
        result.written = False
        result.problems.append(Problem(0, "Ada penyerahan baru di loket selama impor. Tidak ada "
                                          "yang disimpan; jalankan impor sekali lagi."))
    except Cancelled:
        result.written = False
        raise


def _against_database(programme, rows, result, report) -> set[int]:
    """Rows (by index) that may not be written: their batch failed a cooking test meanwhile, or
    the family already has that stage. A row equal to the recorded hand-over is a no-op."""
    db, p = models.db, models.db.param
    refused: set[int] = set()
    used = sorted({int(r.split(SEP)[4]) for r in rows if r is not None})
    still = {bid for (bid,) in db.execute_sql(
        "SELECT id FROM batch_beras WHERE status = 'layak' AND id IN "
        f"({bulk._marks(used)})", used)} if used else set()
    if len(still) < len(used):
        for i, row in enumerate(rows):
            if row is not None and int(row.split(SEP)[4]) not in still:
                refused.add(i)
                result.problems.append(Problem(int(row[20:30]) - LINE_BASE,
                                               "Batch ini baru saja dinyatakan gagal uji tanak; "
                                               "berasnya tidak boleh dibagikan."))
    if db.execute_sql(f"SELECT 1 FROM serah_beras WHERE program_id = {p} LIMIT 1",
                      (programme.id,)).fetchone() is None:
        return refused
    indexed = [(i, r) for i, r in enumerate(rows) if r is not None and i not in refused]
    done = 0
    for start in range(0, len(indexed), CHUNK):
        chunk = indexed[start:start + CHUNK]
        cards = sorted({r[:16] for _, r in chunk})
        recorded = {}
        for kk, tahap, day, batch_id, titik, sumber in db.execute_sql(
                "SELECT no_kk, tahap, tanggal, batch_id, titik, sumber FROM serah_beras "
                f"WHERE program_id = {p} AND no_kk IN ({bulk._marks(cards)})",
                [programme.id, *cards]):
            recorded[(kk, tahap)] = (str(day)[:10], batch_id, titik, sumber)
        for i, row in chunk:
            fields = row.split(SEP)
            first = recorded.get((fields[0], int(fields[1])))
            if first is None:
                continue
            refused.add(i)
            if (first[0], first[1], first[2]) == (fields[3], int(fields[4]), fields[6]) and (
                    first[3] != "loket"):
                result.already += 1  # this very row was imported before (same file, say)
                continue
            day = datetime.date.fromisoformat(first[0])
            where = ", ".join(x for x in (first[2], first[3]) if x)  # point, source
            result.problems.append(Problem(
                int(fields[2]) - LINE_BASE,
                f"Keluarga ini sudah menerima tahap {int(fields[1])} pada {long_date(day)} "
                f"({where}); penyerahan kedua ditolak."))
        done += len(chunk)
        if report("memeriksa", done, len(indexed)):
            raise Cancelled
    return refused


def _write(programme, rows, refused, result, report, sumber, petugas_id) -> None:
    db = models.db
    sqlite = isinstance(db.obj, SqliteDatabase)
    total = len(rows) - rows.count(None) - len(refused)
    existing = db.execute_sql("SELECT COUNT(*) FROM serah_beras").fetchone()[0]
    rebuild = (bulk._drop_plain_indexes("serah_beras")
               if sqlite and total >= max(REBUILD_AT, existing) else [])
    now = models.utcnow().isoformat(sep=" ")
    insert = ("INSERT INTO serah_beras (program_id, tahap, no_kk, kecamatan_kode, batch_id, "
              "tanggal, dicatat_at, petugas_id, titik, sumber, nik_pengambil) "
              f"VALUES ({bulk._marks(range(11))})")
    cursor = db.cursor()
    batch, done, pid = [], 0, programme.id
    for i, row in enumerate(rows):
        if row is None or i in refused:
            continue
        kk, tahap, _line, day, batch_id, kec, titik, nik = row.split(SEP)
        batch.append((pid, int(tahap), kk, kec, int(batch_id), day, now, petugas_id, titik,
                      sumber, nik or None))
        if len(batch) == BATCH:
            cursor.executemany(insert, batch)
            done, batch = done + len(batch), []
            if report("menulis", done, total):
                raise Cancelled
    if batch:
        cursor.executemany(insert, batch)
    for statement in rebuild:
        db.execute_sql(statement)
    if total >= BIG_CHANGE:
        refresh_statistics("serah_beras")
    result.added, result.written = total, True
    report("menulis", total, total)
