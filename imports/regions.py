"""The desa of an import row: a Kemendagri code (dotted or 10 digits), or desa and kecamatan
names resolved against the region table, with a precise message when that is not possible.

Names are compared by their letters and digits in lower case, without a leading "desa",
"kelurahan" or "kecamatan" word, so `Ds. Kemiren`, `KEMIREN` and `kemiren` are one desa. Three
desa names occur in two kecamatan each in Banyuwangi (Karangrejo, Tamansari, Watukebo): for
those a row must name the kecamatan too, or give the code. Answers are cached per distinct
value, so a file of millions of rows resolves each spelling once.
"""
from __future__ import annotations

import re

import models

EXAMPLE = "35.10.16.2001"
_PREFIX = re.compile(r"^(?:desa|ds|kelurahan|kel|kecamatan|kec)\b\.?\s*")
_CODE = re.compile(r"[0-9][0-9. ]*").fullmatch


def name_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", _PREFIX.sub("", " ".join(name.lower().split())))


def dotted(code: str) -> str:
    """`3510162001` or `35.10.16.2001` -> `35.10.16.2001` (other shapes come back as typed)."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) in (6, 10) and (code.isdigit() or code.count(".") in (2, 3)):
        parts = [digits[0:2], digits[2:4], digits[4:6], digits[6:]]
        return ".".join(p for p in parts if p)
    return code


class Regions:
    """The region table in memory (about 240 rows) and the answers given so far."""

    def __init__(self):
        self.villages: dict[str, str] = {}  # desa code -> name
        self.kecamatan: dict[str, str] = {}  # kecamatan code -> name
        for kode, nama, tingkat in models.Region.select(
                models.Region.kode, models.Region.nama, models.Region.tingkat).tuples():
            (self.kecamatan if tingkat == "kecamatan" else self.villages)[kode] = nama
        self.by_name: dict[str, list[str]] = {}
        for kode, nama in sorted(self.villages.items()):
            self.by_name.setdefault(name_key(nama), []).append(kode)
        self.kecamatan_by_name = {name_key(n): k for k, n in self.kecamatan.items()}
        self._answers: dict[tuple[str, str, str], tuple[str, str | None]] = {}

    def resolve(self, code: str, desa: str = "", kecamatan: str = "") -> tuple[str, str | None]:
        """(desa code, None), or ("", the message for the row)."""
        question = (code, desa, kecamatan)
        answer = self._answers.get(question)
        if answer is None:
            if len(self._answers) > 100_000:
                self._answers.clear()  # a file of all different typos: keep memory bounded
            answer = self._answers[question] = self._resolve(*question)
        return answer

    def _resolve(self, code: str, desa: str, kecamatan: str) -> tuple[str, str | None]:
        code, desa, kecamatan = code.strip(), desa.strip(), kecamatan.strip()
        if not code and _CODE(desa):  # a "desa" column holding codes
            code, desa = desa, ""
        if code:
            return self._code(dotted(code))
        if not desa:
            return "", (f"Kode desa wajib diisi (misalnya {EXAMPLE} atau 3510162001), atau "
                        "nama desa dan kecamatannya.")
        found = self.by_name.get(name_key(desa), [])
        kec = ""
        if kecamatan:
            kec = (dotted(kecamatan) if _CODE(kecamatan)
                   else self.kecamatan_by_name.get(name_key(kecamatan), ""))
            if kec not in self.kecamatan:
                return "", f"Kecamatan {kecamatan} tidak dikenal di Kabupaten Banyuwangi."
            found = [c for c in found if c.startswith(kec + ".")]
        if len(found) == 1:
            return found[0], None
        if not found:
            where = f" di Kecamatan {self.kecamatan[kec]}" if kec else " di Kabupaten Banyuwangi"
            return "", (f"Desa/kelurahan {desa} tidak ada{where}. Periksa ejaannya, atau isi "
                        f"kode desa (misalnya {EXAMPLE}).")
        places = ", ".join(f"Kecamatan {self.kecamatan[c[:8]]} ({c})" for c in found)
        return "", (f"Ada {len(found)} desa bernama {self.villages[found[0]]}: {places}. Isi "
                    "kolom kecamatan atau kode desanya.")

    def _code(self, code: str) -> tuple[str, str | None]:
        if code in self.villages:
            return code, None
        if code in self.kecamatan:
            return "", (f"Kode {code} adalah kode kecamatan; isi kode desa/kelurahan, "
                        f"misalnya {code}.2001.")
        return "", (f"Kode desa {code} tidak dikenal: harus kode desa/kelurahan di "
                    f"Banyuwangi (kode Kemendagri, misalnya {EXAMPLE} atau 3510162001).")
