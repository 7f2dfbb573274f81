"""NIK and No. KK validation: every rule of SPEC §3.1 with its own message."""
import datetime

import pytest

from nik import NikError, make_nik, parse_nik, parse_no_kk

TODAY = datetime.date(2026, 11, 27)


def error(value):
    with pytest.raises(NikError) as exc:
        parse_nik(value, today=TODAY)
    return str(exc.value)


def test_valid_man_and_woman():
    man = parse_nik("3510161705800001", today=TODAY)
    assert man.birth_date == datetime.date(1980, 5, 17)
    assert not man.female and man.serial == 1 and man.kecamatan_code == "35.10.16"
    woman = parse_nik("3510165705800002", today=TODAY)
    assert woman.female and woman.birth_date == datetime.date(1980, 5, 17)


def test_spaces_between_groups_are_allowed():
    assert parse_nik("35 10 16 170580 0001", today=TODAY).nik == "3510161705800001"


def test_empty():
    assert error("") == "NIK wajib diisi."
    assert error(None) == "NIK wajib diisi."


def test_length_message_counts_digits():
    assert "16 angka" in error("351016170580001") and "15 angka" in error("351016170580001")
    assert "17 angka" in error("35101617058000011")


def test_non_digits():
    assert "hanya boleh berisi angka" in error("35101617058OOO01")
    assert "hanya boleh berisi angka" in error("٣٥١٠١٦١٧٠٥٨٠٠٠٠١")  # Arabic-Indic digits


@pytest.mark.parametrize("prefix", ["00", "10", "20", "22", "30", "37", "50", "54", "66", "77",
                                    "80", "83", "90", "98", "99"])
def test_unknown_province(prefix):
    assert f"Kode provinsi {prefix}" in error(prefix + "10161705800001")


@pytest.mark.parametrize("prefix", ["11", "19", "21", "31", "36", "51", "53", "61", "65", "71",
                                    "76", "81", "82", "91", "97"])
def test_known_provinces(prefix):
    assert parse_nik(prefix + "10161705800001", today=TODAY)


@pytest.mark.parametrize("day", ["00", "32", "40", "72", "99"])
def test_impossible_day(day):
    assert "angka ke-7 dan ke-8" in error(f"351016{day}05800001")


@pytest.mark.parametrize("month", ["00", "13", "99"])
def test_impossible_month(month):
    assert "angka ke-9 dan ke-10" in error(f"35101617{month}800001")


def test_day_that_does_not_exist_in_the_month():
    assert "tidak ada di kalender" in error("3510163102800001")  # 31 February
    assert "tidak ada di kalender" in error("3510167104800001")  # 31 April, woman (71)


def test_29_february_only_in_leap_years():
    assert parse_nik("3510162902840001", today=TODAY).birth_date == datetime.date(1984, 2, 29)
    assert parse_nik("3510166902000001", today=TODAY).birth_date == datetime.date(2000, 2, 29)
    assert "tidak ada di kalender" in error("3510162902850001")
    assert "tidak ada di kalender" in error("3510166902230001")  # woman, 2023


def test_two_digit_year_is_never_in_the_future():
    assert parse_nik("3510161705250001", today=TODAY).birth_date.year == 2025
    assert parse_nik("3510161705270001", today=TODAY).birth_date.year == 1927


def test_serial_0000():
    assert "0000" in error("3510161705800000")


def test_no_kk_rules():
    assert parse_no_kk("3510160101200001") == "3510160101200001"
    assert parse_no_kk("3510169999990001")  # the date part is not checked strictly
    for bad, words in [("", "wajib"), ("351016010120000", "16 angka"),
                       ("35101601012000x1", "angka"), ("9910160101200001", "provinsi")]:
        with pytest.raises(NikError) as exc:
            parse_no_kk(bad)
        assert words in str(exc.value) and "No. KK" in str(exc.value)


def test_make_nik_round_trips():
    birth = datetime.date(1961, 12, 31)
    nik = make_nik("351016", birth, True, 42)
    parsed = parse_nik(nik, today=TODAY)
    assert (parsed.birth_date, parsed.female, parsed.serial) == (birth, True, 42)
