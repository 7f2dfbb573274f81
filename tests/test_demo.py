"""The demo register: deterministic for a seed, NIKs and No. KKs consistent with each person."""
import re

import models
from imports import demo
from nik import parse_nik, parse_no_kk
from tests.conftest import add_person


def test_same_seed_same_people_other_seed_other_people():
    first = [p.csv_line() for p in demo.generate(400, seed=3)]
    assert first == [p.csv_line() for p in demo.generate(400, seed=3)]
    assert first != [p.csv_line() for p in demo.generate(400, seed=4)]
    assert len(first) == 400


def test_niks_and_cards_match_kecamatan_sex_and_birth_date():
    tally = demo.Tally()
    people = list(demo.generate(3000, seed=1, tally=tally))
    assert len({p.nik for p in people}) == 3000
    cards: dict[str, set] = {}
    for person in people:
        parsed = parse_nik(person.nik)  # raises on any invalid NIK
        region = person.desa[:8].replace(".", "")
        assert parsed.region == region
        assert (parsed.female, parsed.birth_date) == (person.female, person.born)
        assert parse_no_kk(person.no_kk)[:6] == region
        assert "," not in person.nama + person.alamat
        cards.setdefault(person.no_kk, set()).add(person.desa)
    assert all(len(desas) == 1 for desas in cards.values())  # a card lives in one desa
    assert len(cards) == tally.families and tally.people == 3000
    assert max(sum(1 for p in people if p.no_kk == card) for card in list(cards)[:200]) >= 3
    assert len(tally.villages) == 217
    assert set(tally.enrolled) == {code for code, _ in demo.FAMILY_SCHEMES} | set(
        demo.PERSONAL_SCHEMES)


def test_family_schemes_are_on_the_head_and_cover_the_card():
    people = list(demo.generate(2000, seed=2))
    family_codes = {code for code, _ in demo.FAMILY_SCHEMES}
    by_card: dict[str, list] = {}
    for person in people:
        by_card.setdefault(person.no_kk, []).append(person)
    for members in by_card.values():
        schemes = [p.skema for p in members if p.skema]
        if any(s in family_codes for s in schemes):
            assert len(schemes) == 1 and all(p.covered for p in members)


def test_seed_demo_command(runner, app):
    result = runner.invoke(args=["seed-demo", "--people", "600", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert models.Person.select().count() == 600
    assert models.Enrolment.select().count() > 0
    shown = dict(re.findall(r"^\s+(terdaftar|keluarga-terdaftar|belum-terdaftar|tidak-valid)"
                            r"\s+(\d{16})", result.output, re.M))
    assert set(shown) == {"terdaftar", "keluarga-terdaftar", "belum-terdaftar", "tidak-valid"}
    for status in ("terdaftar", "keluarga-terdaftar", "belum-terdaftar"):
        assert models.covering(shown[status]).status == status
    assert models.User.select().count() == 3
    for username in ("admin", "verifikator", "petugas"):
        password = re.search(rf"^\s+{username}\s.*: (\S+)$", result.output, re.M).group(1)
        assert models.User.get(models.User.username == username).check_password(password)
    assert models.User.get(models.User.username == "petugas").kantor_kode == demo.PETUGAS_OFFICE
    statuses = {r.status for r in models.Report.select()}
    assert {"ditolak-otomatis", "menunggu-penilaian"} <= statuses
    assert models.Report.select().count() >= 30


def test_seed_demo_refuses_a_register_with_people(runner, app):
    add_person()
    result = runner.invoke(args=["seed-demo", "--people", "50"])
    assert result.exit_code != 0 and "sudah berisi 1 orang" in result.output
    assert models.Person.select().count() == 1
