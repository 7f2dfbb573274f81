"""Synthetic demo data: families across all 217 desa/kelurahan, enrolled in every scheme, loaded
through the importer's fast path; demo staff accounts and a few dozen reports.

Deterministic for a seed: Faker (`id_ID`) only fills name and street pools once; every choice is
made by one seeded random.Random, and ages count from a fixed date, not from today. NIKs and
No. KKs are built the way Dukcapil builds them: the kecamatan of the family (first six digits),
the birth date (women + 40) or the card's issue date, and a serial unique within the two.
"""
from __future__ import annotations

import csv
import datetime
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field

import models
from cases import casework
from errors import RuleError
from imports.recipients import import_register
from nik import make_nik
from settings import ROOT

REFERENCE_DATE = datetime.date(2024, 12, 31)  # ages count from here, so a seed means one dataset
OLDEST = datetime.date(1935, 1, 1)  # two-digit NIK years from 35 on read as 19xx until 2035
FAMILY_SCHEMES = (("PKH", 0.12), ("BPNT", 0.08), ("BST", 0.05), ("BLT-DD", 0.04),
                  ("PKH-PLUS", 0.01), ("BKK-JATIM", 0.02), ("SEMBAKO-BWI", 0.02))
PERSONAL_SCHEMES = ("RANTANG-KASIH", "DISABILITAS-BWI", "NUTRISI-BUMIL")
PETUGAS_OFFICE = "35.10.16.1001"  # Kelurahan Pakis, Kecamatan Banyuwangi


@dataclass
class Person:
    nik: str
    no_kk: str
    nama: str
    alamat: str
    desa: str
    skema: str = ""
    covered: bool = False  # by its own scheme or its family's
    female: bool = False
    born: datetime.date = REFERENCE_DATE

    def csv_line(self) -> str:
        return f"{self.nik},{self.no_kk},{self.nama},{self.alamat},{self.desa},{self.skema}\n"


@dataclass
class Pools:
    men: list[str]
    women: list[str]
    surnames: list[str]
    streets: list[str]


@dataclass
class Tally:
    people: int = 0
    families: int = 0
    enrolled: dict = field(default_factory=dict)
    villages: set = field(default_factory=set)


def name_pools(seed: int) -> Pools:
    """Indonesian first names, surnames and streets from Faker, sorted so sets cannot reorder."""
    from faker import Faker

    fake = Faker("id_ID")
    fake.seed_instance(seed)

    def pool(make, n=2000):
        return sorted({make().upper().replace(",", "") for _ in range(n)})

    return Pools(pool(fake.first_name_male), pool(fake.first_name_female),
                 pool(fake.last_name), sorted({fake.street_name().replace(",", "")
                                               for _ in range(2000)}))


def villages() -> list[str]:
    """The 217 desa/kelurahan codes, in code order (read from the reference data file)."""
    with open(ROOT / "data" / "wilayah_banyuwangi.csv", newline="", encoding="utf-8") as fh:
        return [row["code"] for row in csv.DictReader(fh) if row["level"] != "kecamatan"]


def generate(people: int, seed: int = 1, tally: Tally | None = None) -> Iterator[Person]:
    """Yield `people` residents, family by family, desa by desa."""
    rng = random.Random(seed)
    pools = name_pools(seed)
    tally = tally if tally is not None else Tally()
    codes = villages()
    # Kelurahan (urban, 1xxx) are denser than desa; each village gets its share of people.
    weights = [rng.uniform(0.6, 1.4) * (1.6 if code[9] == "1" else 1.0) for code in codes]
    shares = _apportion(people, weights)
    missing = [s for s, _ in FAMILY_SCHEMES] + list(PERSONAL_SCHEMES)  # each scheme appears
    region = None
    for code, share in zip(codes, shares, strict=True):
        if code[:8] != region:  # serials count per kecamatan: restart them
            region, nik_serials, kk_serials = code[:8], {}, {}
        left = share
        while left > 0:
            family = _family(rng, pools, code, nik_serials, kk_serials)[:left]
            _enrol(rng, family, missing)
            left -= len(family)
            tally.families += 1
            tally.villages.add(code)
            for person in family:
                tally.people += 1
                if person.skema:
                    tally.enrolled[person.skema] = tally.enrolled.get(person.skema, 0) + 1
                yield person


def _apportion(total: int, weights: list[float]) -> list[int]:
    """Whole shares of `total` in proportion to weights (largest remainders)."""
    exact = [total * w / sum(weights) for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: shares[i] - exact[i])
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _birth(rng: random.Random, age_from: int, age_to: int) -> datetime.date:
    latest = REFERENCE_DATE - datetime.timedelta(days=365 * age_from)
    earliest = max(OLDEST, REFERENCE_DATE - datetime.timedelta(days=365 * (age_to + 1)))
    return earliest + datetime.timedelta(days=rng.randrange((latest - earliest).days + 1))


def _family(rng, pools, desa, nik_serials, kk_serials) -> list[Person]:
    """One family card: its members in card order (head first) with their ages and sexes."""
    roll = rng.random()
    if roll < 0.07:  # an elderly person living alone
        members = [(rng.random() < 0.6, _birth(rng, 65, 90))]
    elif roll < 0.13:  # a young adult on their own card
        members = [(rng.random() < 0.4, _birth(rng, 19, 35))]
    elif roll < 0.21:  # a single mother and her children
        mother = _birth(rng, 26, 55)
        members = [(True, mother)] + _children(rng, mother, rng.randint(1, 3))
    else:  # a couple, their children, sometimes a grandparent
        father = _birth(rng, 23, 72)
        mother = min(REFERENCE_DATE - datetime.timedelta(days=365 * 19),
                     father + datetime.timedelta(days=rng.randrange(0, 8 * 365)))
        members = [(False, father), (True, mother)]
        members += _children(rng, mother, rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4)))
        if rng.random() < 0.1:
            members.append((rng.random() < 0.7, _birth(rng, 70, 90)))
    region = desa[:8].replace(".", "")
    issued = _birth(rng, 0, 15)
    kk_key = (issued.day, issued.month, issued.year)
    kk_serials[kk_key] = kk_serials.get(kk_key, 0) + 1
    no_kk = f"{region}{issued:%d%m%y}{kk_serials[kk_key]:04d}"
    surname = rng.choice(pools.surnames)
    street = (f"{rng.choice(pools.streets)} No. {rng.randint(1, 150)} "
              f"RT {rng.randint(1, 12):03d} RW {rng.randint(1, 6):03d}")
    family = []
    for female, born in members:
        key = (female, born)
        nik_serials[key] = nik_serials.get(key, 0) + 1
        first = rng.choice(pools.women if female else pools.men)
        nama = first if rng.random() < 0.3 else f"{first} {surname}"
        family.append(Person(make_nik(region, born, female, nik_serials[key]), no_kk, nama,
                             street, desa, female=female, born=born))
    return family


def _children(rng, mother: datetime.date, count: int) -> list[tuple[bool, datetime.date]]:
    first = mother + datetime.timedelta(days=365 * 19)
    if first >= REFERENCE_DATE:
        return []
    span = (REFERENCE_DATE - first).days
    return [(rng.random() < 0.5, first + datetime.timedelta(days=rng.randrange(span + 1)))
            for _ in range(count)]


def _enrol(rng, family: list[Person], missing: list[str]) -> None:
    """Enrol the family's head in a family scheme, or some members in personal schemes."""
    head = family[0]
    if len(family) == 1 and _age(head) >= 65 and (rng.random() < 0.45
                                                  or "RANTANG-KASIH" in missing):
        _give(head, "RANTANG-KASIH", missing)
        return
    roll, scheme = rng.random(), None
    for code, share in FAMILY_SCHEMES:
        roll -= share
        if roll < 0:
            scheme = code
            break
    if scheme is None and len(family) > 1 and any(s in missing for s, _ in FAMILY_SCHEMES):
        scheme = next(s for s, _ in FAMILY_SCHEMES if s in missing)
    if scheme:
        _give(head, scheme, missing)
        for person in family:
            person.covered = True
        return
    for person in family:
        age = _age(person)
        if rng.random() < 0.012 or "DISABILITAS-BWI" in missing:
            _give(person, "DISABILITAS-BWI", missing)
        elif person.female and 19 <= age <= 40 and (rng.random() < 0.05
                                                    or "NUTRISI-BUMIL" in missing):
            _give(person, "NUTRISI-BUMIL", missing)


def _give(person: Person, scheme: str, missing: list[str]) -> None:
    person.skema, person.covered = scheme, True
    if scheme in missing:
        missing.remove(scheme)


def _age(person: Person) -> int:
    return (REFERENCE_DATE - person.born).days // 365


def write_csv(path, people: int, seed: int = 1) -> Tally:
    """Write the demo register as an import file (the import benchmark uses this)."""
    tally = Tally()
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(",".join(("nik", "no_kk", "nama", "alamat", "kode_desa", "skema")) + "\n")
        out.writelines(person.csv_line() for person in generate(people, seed, tally))
    return tally


class _Lines:
    """The minimal text stream import_register reads: generated CSV lines, nothing on disk."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines

    def readline(self, size: int = -1) -> str:  # the lines made here are short: size unused
        return next(self._lines, "")

    def __iter__(self):
        return self._lines


def seed(people: int, seed_value: int = 1, progress=None) -> dict:
    """Fill an empty register; returns what to show: counts, NIKs to try, accounts, reports."""
    tally, samples, subjects = Tally(), {}, []
    step = max(1, people // 300)  # about 300 people set aside as possible report subjects

    def lines():
        yield "nik,no_kk,nama,alamat,kode_desa,skema\n"
        for i, person in enumerate(generate(people, seed_value, tally)):
            samples.setdefault(_status(person), person)
            if not i % step:
                subjects.append(person)
            yield person.csv_line()

    result = import_register(_Lines(lines()), progress=progress,
                             sumber=f"demo:seed-{seed_value}")
    if not result.ok:
        raise RuleError("Data demo gagal dimuat: "
                        + "; ".join(str(p) for p in result.problems[:5]))
    accounts = _accounts()
    reports = _reports(random.Random(seed_value), subjects, accounts[2][3])
    return {"tally": tally, "samples": samples, "accounts": accounts, "reports": reports}


def _status(person: Person) -> str:
    if person.skema:
        return "terdaftar"
    return "keluarga-terdaftar" if person.covered else "belum-terdaftar"


def _accounts() -> list[tuple]:
    """admin, verifikator and petugas (at a kelurahan office), each with a random password;
    an account that exists already is kept as it is (its password is not shown)."""
    made = []
    for username, role, kantor in (("admin", "admin", None),
                                   ("verifikator", "verifikator", None),
                                   ("petugas", "petugas", PETUGAS_OFFICE)):
        user = models.User.get_or_none(models.User.username == username)
        password = None
        if user is None:
            password = secrets.token_urlsafe(9)
            user = models.User(username=username, role=role, kantor=kantor)
            user.set_password(password)
            user.save()
        made.append((username, role, kantor, user, password))
    return made


STORIES = {
    "kehilangan-penghasilan": "Di-PHK dari pabrik sejak pandemi, belum ada pemasukan.",
    "lansia-sebatang-kara": "Lansia tinggal sendiri, tidak ada keluarga yang merawat.",
    "disabilitas": "Penyandang disabilitas, tidak bisa bekerja.",
    "sakit-menahun": "Sakit menahun, sudah lama tidak bisa bekerja.",
    "orang-tua-tunggal": "Ibu tunggal dengan anak kecil, penghasilan tidak tetap.",
    "lainnya": "Usaha warung tutup, kesulitan memenuhi kebutuhan harian.",
}


def _reports(rng: random.Random, subjects: list[Person], petugas) -> dict:
    """A few dozen reports through casework.submit_report, so the review queue is not empty:
    about one in four about someone already covered (rejected at once), the others open, some
    taken at the petugas' office, with submission dates spread over the last ten days."""
    covered = [p for p in subjects if p.covered]
    uncovered = [p for p in subjects if not p.covered]
    chosen = rng.sample(covered, min(10, len(covered))) + rng.sample(uncovered,
                                                                     min(26, len(uncovered)))
    rng.shuffle(chosen)
    outcomes: dict[str, int] = {}
    for person in chosen:
        kategori = rng.choice(sorted(STORIES))
        self_report = rng.random() < 0.5
        subject = {"nik": person.nik, "nama": person.nama, "alamat": person.alamat,
                   "desa": person.desa, "no_kk": person.no_kk if rng.random() < 0.7 else None,
                   "kategori": kategori, "keterangan": STORIES[kategori]}
        reporter = {"hubungan": "diri-sendiri" if self_report else "orang-lain",
                    "nama": person.nama if self_report else rng.choice(subjects).nama,
                    "nik": person.nik if self_report else None,
                    "telepon": f"08{rng.randrange(10**9, 10**10)}"}
        at_office = rng.random() < 0.25
        report, outcome = casework.submit_report(
            subject, reporter, kantor=PETUGAS_OFFICE if at_office else None,
            petugas=petugas if at_office else None)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        _backdate(report, rng.randint(0, 10))
    return outcomes


def _backdate(report, days: int) -> None:
    """Move a demo report's dates `days` back, so the queue shows overdue cases too."""
    if not days:
        return
    shift = datetime.timedelta(days=days)
    Report, Reporter, Event = models.Report, models.Reporter, models.ReportEvent
    Report.update(created_at=report.created_at - shift,
                  tanggal_lapor=report.tanggal_lapor - shift,
                  tenggat=report.tenggat - shift if report.tenggat else None,
                  ).where(Report.id == report.id).execute()
    for model in (Reporter, Event):
        column = model.created_at if model is Reporter else model.at
        for row_id, moment in model.select(model.id, column).where(
                model.report == report.id).tuples():
            model.update({column: moment - shift}).where(model.id == row_id).execute()
