"""The columns of an import file, found from its header row as people write it.

A header is compared by its letters and digits alone, in lower case: `NO. KK`, `No_KK`, `no kk`
and `NOKK` are one spelling. Each field has the spellings offices use (SIKS-NG/DTSEN and
province exports, our own exports); a column with a header not listed is ignored.

When a required field is not found, an admin maps the file's columns once in the browser; the
mapping is remembered (ColumnMapping, keyed by the kind of list and the exact set of headers)
and used for every later file with the same headers, from the browser and the command line.
"""
from __future__ import annotations

import hashlib
import json
import re

from peewee import CharField, DateTimeField, TextField

from database import BaseModel
from formats import utcnow

NIK = ("nik", "nonik", "nomornik", "nomorindukkependudukan", "nikart", "nikpenerima",
       "nikkepalakeluarga", "nikkrt")
NO_KK = ("nokk", "nomorkk", "kk", "nkk", "nokartukeluarga", "nomorkartukeluarga",
         "kartukeluarga", "nokkart")
FIELDS = {
    "penerima": {
        "nik": NIK,
        "no_kk": NO_KK,
        "nama": ("nama", "namalengkap", "namapenerima", "namaart", "namapenduduk",
                 "namakepalakeluarga", "namakrt"),
        "alamat": ("alamat", "alamatlengkap", "alamatrumah", "alamatdomisili", "jalan"),
        "rt": ("rt", "nort", "nomorrt"),
        "rw": ("rw", "norw", "nomorrw"),
        "kode_desa": ("kodedesa", "kodewilayah", "kodedesakelurahan", "kodekelurahan", "kddesa",
                      "kodewil", "kodekemendagri", "idwilayah"),
        "desa": ("desa", "kelurahan", "desakelurahan", "kelurahandesa", "namadesa",
                 "namakelurahan", "namadesakelurahan", "nmdesa", "deskel"),
        "kecamatan": ("kecamatan", "namakecamatan", "kec", "nmkec"),
        "skema": ("skema", "kodeskema", "skemabantuan", "program", "programbantuan", "bansos",
                  "jenisbansos", "jenisbantuan", "bantuan"),
        "desil": ("desil", "desilkesejahteraan", "desildtsen", "desilnasional", "peringkatdesil"),
    },
    "beras": {
        "no_kk": NO_KK,
        "tahap": ("tahap", "tahapke", "tahappenyaluran", "tahapbantuan"),
        "tanggal": ("tanggal", "tgl", "tanggalpenyerahan", "tglpenyerahan", "tanggalserah",
                    "tanggalterima", "tanggalpenyaluran", "tglpenyaluran"),
        "batch": ("batch", "kodebatch", "nobatch", "nomorbatch"),
        "titik": ("titik", "titikpenyaluran", "titikbagi", "lokasi", "lokasipenyaluran"),
        "nik": (*NIK, "nikpengambil"),
    },
    "cek": {
        "nik": NIK,
        "no_kk": NO_KK,
    },
}
LABELS = {
    "nik": "NIK", "no_kk": "No. KK", "nama": "Nama", "alamat": "Alamat", "rt": "RT", "rw": "RW",
    "kode_desa": "Kode desa/wilayah", "desa": "Nama desa/kelurahan", "kecamatan": "Kecamatan",
    "skema": "Skema", "desil": "Desil", "tahap": "Tahap", "tanggal": "Tanggal penyerahan",
    "batch": "Kode batch", "titik": "Titik penyaluran",
}
EXAMPLES = {
    "penerima": "NIK, NO KK, NAMA, ALAMAT, RT, RW, KODE WILAYAH (atau DESA dan KECAMATAN), "
                "SKEMA, DESIL",
    "beras": "NO KK, TAHAP, TANGGAL, BATCH, TITIK, NIK",
    "cek": "NIK, NO KK",
}
_SPELLINGS = {kind: {spelling: name for name, spellings in fields.items()
                     for spelling in spellings} for kind, fields in FIELDS.items()}


def key(header: str) -> str:
    """A header's letters and digits in lower case: the form spellings are compared in."""
    return re.sub(r"[^0-9a-z]", "", header.lower())


def required(kind: str, found) -> list[str]:
    """The fields a list of this kind must have, given the ones `found`.

    A recipient list naming a desa is a full list and needs the family card too; one without
    is a short list (NIK and name of people already in the register)."""
    if kind == "penerima":
        full = "kode_desa" in found or "desa" in found
        return ["nik", "nama", "no_kk"] if full else ["nik", "nama"]
    if kind == "beras":
        return ["no_kk", "tahap", "tanggal", "batch"]
    return ["nik"]


class ColumnMapping(BaseModel):
    """Columns an admin mapped for a header row that was not recognised: used again for every
    file of the same kind with the same headers."""

    kunci = CharField(max_length=64, primary_key=True)  # see signature()
    jenis = CharField(max_length=12)
    judul = TextField()  # the headers as written (JSON list)
    kolom = TextField()  # the field of each column, "" to ignore it (JSON list)
    dibuat_oleh = CharField(max_length=50)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "pemetaan_kolom"


def signature(kind: str, header: list[str]) -> str:
    text = kind + "\n" + "\n".join(key(h) for h in header)
    return hashlib.sha256(text.encode()).hexdigest()


class Columns:
    """Where each field is in a file: recognised from the headers, or a remembered mapping."""

    def __init__(self, kind: str, header: list[str], fields: list[str] | None = None):
        self.kind, self.header = kind, header
        self.index: dict[str, int] = {}
        self.unknown: list[str] = []
        self.duplicates: list[str] = []
        mapping = None if fields is not None else ColumnMapping.get_or_none(
            ColumnMapping.kunci == signature(kind, header))
        self.remembered = mapping is not None
        if mapping is not None:
            fields = json.loads(mapping.kolom)
        elif fields is None:
            fields = [_SPELLINGS[kind].get(key(h), "") for h in header]
        for i, (name, text) in enumerate(zip(fields, header, strict=False)):
            if not name:
                if text:
                    self.unknown.append(text)
            elif name in self.index:
                self.duplicates.append(
                    f"Kolom {LABELS[name]} ada dua kali (kolom {self.index[name] + 1} "
                    f"“{header[self.index[name]]}” dan kolom {i + 1} “{text}”).")
            else:
                self.index[name] = i

    def __contains__(self, name: str) -> bool:
        return name in self.index

    @property
    def missing(self) -> list[str]:
        return [name for name in required(self.kind, self.index) if name not in self.index]

    def problem(self, hint: str = "") -> str | None:
        """Why the header row cannot be used, or None."""
        messages = list(self.duplicates)
        if self.missing:
            messages.append("Kolom " + ", ".join(LABELS[n] for n in self.missing)
                            + " tidak ditemukan di baris judul.")
        if not messages:
            return None
        if self.unknown:
            messages.append("Judul yang tidak dikenali: " + ", ".join(self.unknown) + ".")
        messages.append(f"Tulis judul kolom seperti {EXAMPLES[self.kind]}{hint}.")
        return " ".join(messages)

    @property
    def chosen(self) -> list[str]:
        """The field of each column ("" where none): what a mapping form starts from."""
        fields = [""] * len(self.header)
        for name, i in self.index.items():
            fields[i] = name
        return fields

    def pick(self, fields, row: list[str]) -> list[str]:
        """The values of `fields` in a row ("" for a field the file does not have)."""
        return [row[self.index[f]] if f in self.index else "" for f in fields]


def header_test(kind: str):
    """For readers.open_table: does this row of texts make a usable header row?"""
    return lambda texts: Columns(kind, texts).problem() is None


def remember(kind: str, header: list[str], fields: list[str], username: str) -> Columns:
    """Save an admin's mapping of this header row (fields: one per column, "" to ignore) when
    it is usable; returns the columns it gives (problem() says why it was not saved)."""
    known = FIELDS[kind]
    fields = [f if f in known else "" for f in fields][:len(header)]
    fields += [""] * (len(header) - len(fields))
    columns = Columns(kind, header, fields)
    if columns.problem() is not None:
        return columns
    kunci = signature(kind, header)
    row = dict(jenis=kind, judul=json.dumps(header), kolom=json.dumps(fields),
               dibuat_oleh=username[:50], created_at=utcnow())
    if ColumnMapping.update(**row).where(ColumnMapping.kunci == kunci).execute() == 0:
        ColumnMapping.create(kunci=kunci, **row)
    columns.remembered = True
    return columns


def forget(kind: str, header: list[str]) -> None:
    ColumnMapping.delete().where(ColumnMapping.kunci == signature(kind, header)).execute()
