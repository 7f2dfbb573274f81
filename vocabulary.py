"""The office's words: each code the database stores, with the one Indonesian label it shows.

Every page, receipt, export and message takes its labels from here, so a status or a role reads
the same wherever a person meets it.
"""
from __future__ import annotations

LEVELS = {"pusat": "Pusat", "provinsi": "Provinsi", "kabupaten": "Kabupaten"}
UNITS = {"keluarga": "keluarga", "individu": "individu"}
ROLES = ("petugas", "verifikator", "admin")
ROLE_LABELS = {"petugas": "Petugas kantor", "verifikator": "Tim verifikasi",
               "admin": "Admin Dinas Sosial"}

STATUSES = {
    "ditolak-otomatis": "Ditolak otomatis",
    "menunggu-penilaian": "Menunggu penilaian",
    "layak": "Layak, menunggu penyaluran",
    "tidak-layak": "Tidak layak",
    "tersalurkan": "Bantuan sudah disalurkan",
}
OPEN_STATUSES = ("menunggu-penilaian", "layak")
CLOSED_STATUSES = ("ditolak-otomatis", "tidak-layak", "tersalurkan")
CATEGORIES = {
    "kehilangan-penghasilan": "Kehilangan penghasilan",
    "lansia-sebatang-kara": "Lansia hidup sebatang kara",
    "disabilitas": "Penyandang disabilitas",
    "sakit-menahun": "Sakit menahun",
    "orang-tua-tunggal": "Orang tua tunggal",
    "lainnya": "Lainnya",
}
REJECTION_REASONS = {
    "mampu": "Keluarga dinilai mampu",
    "asn-tni-polri": "Anggota keluarga ASN, TNI atau Polri",
    "bukan-domisili": "Tidak berdomisili di Banyuwangi",
    "data-tidak-sesuai": "Data tidak sesuai dengan kenyataan",
    "meninggal-pindah": "Meninggal dunia atau pindah",
    "lainnya": "Alasan lain",
}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)
