"""The register's rules (SPEC §3.3 rules 1–2) and the single covering function."""
import pytest
from peewee import IntegrityError

import models
from tests.conftest import add_person, new_nik

KK = "3510160101200001"
OTHER_KK = "3510160101200002"


def test_mask_name():
    assert models.mask_name("SITI WAHYUNI") == "S**I W*****I"
    assert models.mask_name("SUHARTO WIDODI") == "S*****O W****I"
    assert models.mask_name("I GUSTI AYU") == "I G***I A*U"
    assert models.mask_name("  ") == ""


def test_reference_data_loaded(app):
    assert models.Region.select().count() == 242
    assert models.Region.select().where(models.Region.tingkat == "kecamatan").count() == 25
    assert models.Scheme.get_by_id("RANTANG-KASIH").satuan == "individu"
    assert models.Scheme.get_by_id("BST").tingkat == "pusat"
    assert models.Scheme.select().count() == 10


def test_uncovered_and_unknown(app):
    assert models.covering(new_nik()).status == "belum-terdaftar"
    nik = add_person()
    coverage = models.covering(nik)
    assert coverage.status == "belum-terdaftar" and coverage.nama == "SITI WAHYUNI"
    assert coverage.desa == "Pakis"


def test_own_enrolment_covers(app):
    nik = add_person()
    models.enrol(nik, "RANTANG-KASIH", sumber="test")
    coverage = models.covering(nik)
    assert (coverage.status, coverage.skema, coverage.tingkat) == (
        "terdaftar", "RANTANG-KASIH", "kabupaten")


def test_family_scheme_covers_the_whole_card(app):
    father = add_person(no_kk=KK, nama="BAPAK")
    son = add_person(no_kk=KK, nama="ANAK")
    models.enrol(father, "BST", sumber="test")
    coverage = models.covering(son)
    assert coverage.status == "keluarga-terdaftar"
    assert (coverage.skema, coverage.tingkat, coverage.via_nik) == ("BST", "pusat", father)
    # The son may not be enrolled anywhere else, whatever the level.
    with pytest.raises(models.RegisterError, match="Keluarga"):
        models.enrol(son, "DISABILITAS-BWI", sumber="test")


def test_typed_family_card_counts_for_unknown_person(app):
    father = add_person(no_kk=KK)
    models.enrol(father, "PKH", sumber="test")
    stranger = new_nik()
    assert models.covering(stranger).status == "belum-terdaftar"
    assert models.covering(stranger, KK).status == "keluarga-terdaftar"


def test_registers_card_counts_even_when_another_card_is_typed(app):
    father = add_person(no_kk=KK)
    son = add_person(no_kk=KK)
    models.enrol(father, "PKH", sumber="test")
    assert models.covering(son, OTHER_KK).status == "keluarga-terdaftar"


def test_individual_scheme_covers_no_family(app):
    grandma = add_person(no_kk=KK)
    grandson = add_person(no_kk=KK)
    models.enrol(grandma, "RANTANG-KASIH", sumber="test")
    assert models.covering(grandson).status == "belum-terdaftar"
    models.enrol(grandson, "DISABILITAS-BWI", sumber="test")
    assert models.covering(grandson).skema == "DISABILITAS-BWI"


def test_family_scheme_refused_when_a_member_has_individual_aid(app):
    grandma = add_person(no_kk=KK)
    father = add_person(no_kk=KK)
    models.enrol(grandma, "RANTANG-KASIH", sumber="test")
    with pytest.raises(models.RegisterError, match="Anggota keluarga"):
        models.enrol(father, "PKH", sumber="test")


def test_one_scheme_per_nik(app):
    nik = add_person()
    models.enrol(nik, "BST", sumber="test")
    with pytest.raises(models.RegisterError, match="sudah terdaftar"):
        models.enrol(nik, "PKH", sumber="test")
    assert models.Enrolment.select().count() == 1


def test_database_enforces_one_active_enrolment_per_nik(app):
    """Even a writer that skips the rules cannot make a second active enrolment."""
    nik = add_person(no_kk=None)
    models.Enrolment.create(person=nik, scheme="RANTANG-KASIH", sejak=models.today(),
                            sumber="a")
    with pytest.raises(IntegrityError), models.db.atomic():
        models.Enrolment.create(person=nik, scheme="DISABILITAS-BWI", sejak=models.today(),
                                sumber="b")
    # An ended enrolment stays as history and frees the NIK.
    models.Enrolment.update(berakhir=models.today()).execute()
    models.Enrolment.create(person=nik, scheme="DISABILITAS-BWI", sejak=models.today(),
                            sumber="b")
    assert models.covering(nik).skema == "DISABILITAS-BWI"


def test_database_enforces_one_family_scheme_per_card(app):
    a, b = add_person(no_kk=KK), add_person(no_kk=KK)
    models.Enrolment.create(person=a, scheme="PKH", family_kk=KK, sejak=models.today(),
                            sumber="a")
    with pytest.raises(IntegrityError), models.db.atomic():
        models.Enrolment.create(person=b, scheme="BST", family_kk=KK, sejak=models.today(),
                                sumber="b")


def test_inactive_scheme_takes_no_new_enrolments(app):
    models.Scheme.update(aktif=False).where(models.Scheme.kode == "BLT-DD").execute()
    with pytest.raises(models.RegisterError, match="tidak menerima peserta baru"):
        models.enrol(add_person(), "BLT-DD", sumber="test")


def test_unknown_person_or_scheme(app):
    with pytest.raises(models.RegisterError, match="belum ada di data penduduk"):
        models.enrol(new_nik(), "BST", sumber="test")
    with pytest.raises(models.RegisterError, match="tidak dikenal"):
        models.enrol(add_person(), "NOPE", sumber="test")


def test_family_scheme_uses_card_given_for_person_without_one(app):
    nik = add_person(no_kk=None)
    models.enrol(nik, "SEMBAKO-BWI", sumber="test", no_kk=KK)
    assert models.Person.get_by_id(nik).no_kk == KK
    assert models.covering(add_person(no_kk=KK)).status == "keluarga-terdaftar"
