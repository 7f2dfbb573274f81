"""A write refused by the database's unique indexes inside the bulk insert (a reviewer enrolled
someone between the import's check and its write) reads as a line-numbered problem, the same on
SQLite and PostgreSQL, never a driver's traceback; nothing is written."""
from __future__ import annotations

import models
from imports import bulk
from imports import recipients as importer
from tests.conftest import DESA, add_person, new_nik

KK1, KK2 = "3510160101200071", "3510160101200072"


def missed_once(monkeypatch):
    """The first look at the register sees nothing, as if its enrolments came just after."""
    real, calls = bulk._facts, []

    def facts(chunk):
        calls.append(chunk)
        return ({}, {}, {}) if len(calls) == 1 else real(chunk)

    monkeypatch.setattr(bulk, "_facts", facts)
    return calls


def test_unique_violation_in_the_bulk_insert_is_a_problem_of_its_line(app, monkeypatch):
    enrolled = add_person(no_kk=KK1, nama="SITI")
    models.enrol(enrolled, "BST", sumber="loket")
    calls = missed_once(monkeypatch)
    text = ("nik,no_kk,nama,kode_desa,skema\n"
            f"{new_nik()},{KK2},BUDI,{DESA},PKH\n"
            f"{enrolled},{KK1},SITI,{DESA},RANTANG-KASIH\n")
    before = models.Person.select().count(), models.Enrolment.select().count()
    result = importer.import_register(importer.read_text(text))
    assert len(calls) == 2  # the rules ran again after the database refused the write
    assert not result.written
    assert [(p.line, p.message) for p in result.problems] == [
        (3, "NIK ini sudah terdaftar sebagai penerima BST.")]
    assert (models.Person.select().count(), models.Enrolment.select().count()) == before


def test_family_index_violation_names_the_line_too(app, monkeypatch):
    head = add_person(no_kk=KK1, nama="SITI")
    models.enrol(head, "PKH", sumber="loket")
    missed_once(monkeypatch)
    member = new_nik()
    text = f"nik,no_kk,nama,kode_desa,skema\n{member},{KK1},BUDI,{DESA},BPNT\n"
    result = importer.import_register(importer.read_text(text))
    assert [(p.line, p.message) for p in result.problems] == [
        (2, "Keluarga NIK ini (No. KK yang sama) sudah menerima PKH.")]
    assert models.Person.get_or_none(models.Person.nik == member) is None


def test_a_violation_the_rules_cannot_name_is_one_message(app, monkeypatch):
    enrolled = add_person(no_kk=KK1, nama="SITI")
    models.enrol(enrolled, "BST", sumber="loket")
    monkeypatch.setattr(bulk, "_facts", lambda chunk: ({}, {}, {}))  # blind both times
    text = f"nik,no_kk,nama,kode_desa,skema\n{enrolled},{KK1},SITI,{DESA},RANTANG-KASIH\n"
    result = importer.import_register(importer.read_text(text))
    assert not result.written
    assert [p.line for p in result.problems] == [0]
    assert "jalankan impor sekali lagi" in result.problems[0].message
