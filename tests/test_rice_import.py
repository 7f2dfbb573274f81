"""The CSV import of hand-overs recorded elsewhere: the counter's checks, line by line, all or
nothing unless skipping bad rows, and a re-import that changes nothing."""
from __future__ import annotations

import datetime

import models
from formats import long_date
from imports.recipients import read_text
from nik import make_nik
from rice import distribution as rice
from rice import progress as rice_progress
from rice.handovers import import_handovers
from rice.models import Handover
from tests.test_rice import failed_batch, make_families, make_programme

HEADER = "no_kk,tahap,tanggal,batch,titik,nik"
TESTED = models.today() - datetime.timedelta(days=30)
DAY = (TESTED + datetime.timedelta(days=2)).strftime("%d-%m-%Y")


def csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def run(programme, text, **kwargs):
    return import_handovers(programme, read_text(text), **kwargs)


def problems(result):
    return [(p.line, p.message) for p in result.problems]


def cooked(programme, tahap, kode, day=TESTED):
    return rice.record_test(programme, tahap, kode, "Gudang Bulog", day, "Dinas Sosial",
                            "Dinas Sosial, pendamping PKH", "layak").batch


def setup(n=4):
    cards = make_families(n)
    programme = make_programme()
    for tahap in programme.stage_numbers:
        cooked(programme, tahap, f"B{tahap}")
    return programme, cards


def test_valid_file_is_written(app):
    programme, cards = setup()
    result = run(programme, csv(*(f"{kk},1,{DAY},B1,Balai Desa Pakis," for kk in cards),
                                f"{cards[0]},2,{DAY},b2,,"))
    assert result.ok and (result.rows, result.added, result.already) == (5, 5, 0)
    first = Handover.get(Handover.no_kk == cards[0], Handover.tahap == 1)
    assert (first.titik, first.sumber, first.tanggal.strftime("%d-%m-%Y")) == (
        "Balai Desa Pakis", "impor", DAY)
    assert rice_progress.progress(programme).handed_gram == 5 * 15_000


def test_every_problem_is_reported_by_line_and_nothing_is_written(app):
    programme, cards = setup()
    failed_batch(programme, 2, "RUSAK")
    late = cooked(programme, 3, "BARU", day=models.today())
    stranger = "3510169999000001"
    tomorrow = (models.today() + datetime.timedelta(days=1)).strftime("%d-%m-%Y")
    text = csv(
        f"{cards[0]},1,{DAY},B1,,",  # 2: fine
        f"{stranger},1,{DAY},B1,,",  # 3: not a PKH family
        f"12345,1,{DAY},B1,,",  # 4: not a card number
        f"{cards[1]},4,{DAY},B1,,",  # 5: no stage 4
        f"{cards[1]},1,31-02-2020,B1,,",  # 6: no such date
        f"{cards[1]},1,{tomorrow},B1,,",  # 7: the future
        f"{cards[1]},1,{DAY},B9,,",  # 8: unknown batch
        f"{cards[1]},2,{DAY},RUSAK,,",  # 9: failed its cooking test
        f"{cards[1]},3,{DAY},{late.kode},,",  # 10: handed out before its cooking test
        f"{cards[0]},1,{DAY},B1,,",  # 11: the same family and stage as line 2
        f"{cards[2]},1,{DAY}",  # 12: columns missing
        f"{cards[3]},1,{DAY},B1,,3510160000000000",  # 13: a bad NIK
    )
    result = run(programme, text)
    assert not result.written and Handover.select().count() == 0
    found = dict(problems(result))
    assert sorted(found) == list(range(3, 14))
    assert "tidak ada di daftar penerima program ini" in found[3]
    assert "No. KK harus 16 angka" in found[4]
    assert "Tahap 4 tidak ada" in found[5]
    assert "Tanggal 31-02-2020 tidak dikenal" in found[6]
    assert "belum terjadi" in found[7]
    assert "Batch B9 tidak dikenal untuk tahap 1" in found[8]
    assert "gagal uji tanak" in found[9]
    assert "baru lulus uji tanak" in found[10]
    assert "di baris 2" in found[11]
    assert "berisi 3 kolom" in found[12]
    assert found[13].startswith("NIK pengambil:")
    # Skipping bad rows writes the good one only.
    result = run(programme, text, skip_invalid=True)
    assert result.written and result.added == 1 and result.skipped == 11
    assert Handover.select().count() == 1


def test_reimport_changes_nothing_and_a_double_hand_over_is_refused(app, tmp_path):
    programme, cards = setup()
    path = tmp_path / "gudang.csv"
    path.write_text(csv(*(f"{kk},1,{DAY},B1,Gudang," for kk in cards)))
    assert import_handovers(programme, path).added == 4
    again = import_handovers(programme, path)
    assert again.ok and (again.added, again.already) == (0, 4)
    assert Handover.select().count() == 4
    assert Handover.get().sumber == "impor:gudang.csv"
    # The post office lists one of them again on another day: refused with the first record.
    other_day = (TESTED + datetime.timedelta(days=5)).strftime("%d-%m-%Y")
    result = run(programme, csv(f"{cards[0]},1,{other_day},B1,Kantor Pos,",
                                f"{cards[0]},2,{other_day},B2,Kantor Pos,"))
    assert not result.written
    day = long_date(TESTED + datetime.timedelta(days=2))
    assert problems(result) == [(2, f"Keluarga ini sudah menerima tahap 1 pada {day} (Gudang, "
                                    "impor:gudang.csv); penyerahan kedua ditolak.")]
    assert Handover.select().count() == 4


def test_family_found_by_nik_semicolons_and_a_byte_order_mark(app):
    programme, cards = setup(2)
    member = make_nik("351016", datetime.date(1970, 1, 1), False, 1)  # head of family 1
    unknown = make_nik("351016", datetime.date(1991, 1, 1), False, 1)
    text = "\ufeff" + csv(f";1;{DAY};B1;Balai;{member}", f";1;{DAY};B1;Balai;{unknown}",
                          f"{cards[1]};1;{TESTED + datetime.timedelta(days=1)};B1;;",
                          header=HEADER.replace(",", ";"))
    result = run(programme, text)
    assert problems(result) == [(3, "No. KK kosong dan NIK ini tidak ada di data penduduk: isi "
                                    "No. KK keluarganya.")]
    result = run(programme, text, skip_invalid=True)
    assert result.added == 2
    assert Handover.get(Handover.no_kk == cards[0]).nik_pengambil == member


def test_header_must_name_the_columns(app):
    programme, _cards = setup(1)
    result = run(programme, "kk,tahap,tanggal,nomor\n")
    assert not result.written
    assert problems(result) == [(1, "Kolom Kode batch tidak ditemukan di baris judul. Judul "
                                    "yang tidak dikenali: nomor. Tulis judul kolom "
                                    "seperti NO KK, TAHAP, TANGGAL, BATCH, TITIK, NIK (titik "
                                    "dan nik boleh ada), atau petakan kolomnya sekali di "
                                    "halaman Impor program beras: pemetaan itu dipakai lagi "
                                    "untuk berkas berjudul sama.")]
    assert result.needs_mapping and result.header == ("kk", "tahap", "tanggal", "nomor")


def test_command_line_import(runner, tmp_path):
    programme, cards = setup(3)
    good, bad = tmp_path / "baik.csv", tmp_path / "buruk.csv"
    good.write_text(csv(*(f"{kk},1,{DAY},B1,," for kk in cards)))
    bad.write_text(csv(f"{cards[0]},2,{DAY},B1,,"))
    result = runner.invoke(args=["import-handovers", str(programme.id), str(good)])
    assert result.exit_code == 0, result.output
    assert "Penyerahan baru: 3 (45 kg)" in result.output
    result = runner.invoke(args=["import-handovers", str(programme.id), str(bad)])
    assert result.exit_code == 1
    assert "Baris 2: Batch B1 tidak dikenal untuk tahap 2" in result.output
    assert "Tidak ada data yang disimpan" in result.output
    from office.audit import AuditEntry  # both runs are in the audit log, by the server
    entries = [(e.actor, e.subject) for e in AuditEntry.select().where(
        AuditEntry.action == "impor.beras").order_by(AuditEntry.id)]
    assert entries == [
        ("sistem", f"program {programme.id}, baik.csv: 3 baris, disimpan, 3 penyerahan baru, "
                   "0 masalah"),
        ("sistem", f"program {programme.id}, buruk.csv: 1 baris, tidak disimpan, 0 penyerahan "
                   "baru, 1 masalah")]
    result = runner.invoke(args=["import-handovers", "999", str(good)])
    assert result.exit_code != 0 and "tidak ada" in result.output


def test_spreadsheets_with_dates_and_numbers_and_other_header_spellings(app, tmp_path):
    from tests.spreadsheets import WRITERS

    programme, cards = setup(3)
    handed = TESTED + datetime.timedelta(days=2)
    header = ["No. KK", "Tahap ke", "Tanggal Penyerahan", "Kode Batch", "Titik Penyaluran"]
    for kind, card in zip(("xlsx", "xls", "ods"), cards, strict=True):
        # A date cell (xls and ods get the typed text), a stage as a number, the card as a
        # number (16 digits not ending in 0: exact).
        day = handed if kind == "xlsx" else handed.strftime("%d-%m-%Y")
        path = WRITERS[kind](tmp_path / f"pos.{kind}", [header, [float(card), 1, day, "B1",
                                                                 "Kantor Pos"]])
        result = import_handovers(programme, str(path))
        assert result.ok, problems(result)
        assert Handover.get(Handover.no_kk == card).tanggal == handed


def test_command_line_reads_a_spreadsheet(runner, tmp_path):
    from tests.spreadsheets import write_xlsx

    programme, cards = setup(1)
    path = write_xlsx(tmp_path / "pos.xlsx", [["no_kk", "tahap", "tanggal", "batch"],
                                              [cards[0], "1", DAY, "B1"]], sheet="Serah")
    result = runner.invoke(args=["import-handovers", str(programme.id), str(path),
                                 "--sheet", "Serah"])
    assert result.exit_code == 0, result.output
    assert "Penyerahan baru: 1" in result.output
