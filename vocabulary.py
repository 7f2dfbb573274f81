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
# Who acted on a case, in every history: the roles, and the resident and the system.
ACTOR_LABELS = {**ROLE_LABELS, "warga": "Warga", "sistem": "Sistem"}

STATUSES = {
    "ditolak-otomatis": "Ditolak otomatis",
    "menunggu-penilaian": "Menunggu penilaian",
    "layak": "Layak, menunggu penyaluran",
    "tidak-layak": "Tidak layak",
    "tersalurkan": "Bantuan sudah disalurkan",
}
OPEN_STATUSES = ("menunggu-penilaian", "layak")
CLOSED_STATUSES = ("ditolak-otomatis", "tidak-layak", "tersalurkan")
# The review queue's filter: its open statuses by their labels, and the objections.
QUEUE_STAGES = {**{s: STATUSES[s] for s in OPEN_STATUSES},
                "sanggahan": "Sanggahan terhadap penerima"}
# A `layak` case against the seven-day rule (office/stats.Delivery's counts).
DELIVERY_LABELS = {"on_time": "Tepat waktu", "late": "Disalurkan terlambat",
                   "overdue": "Terlambat, belum disalurkan",
                   "waiting": "Belum disalurkan, masih sempat"}
CATEGORIES = {
    "kehilangan-penghasilan": "Kehilangan penghasilan",
    "lansia-sebatang-kara": "Lansia hidup sebatang kara",
    "disabilitas": "Penyandang disabilitas",
    "sakit-menahun": "Sakit menahun",
    "orang-tua-tunggal": "Orang tua tunggal",
    "lainnya": "Lainnya",
}
# Why an enrolment ended (the admin's person page); the label is stored at the start of the
# reason, so the check can tell a death from a move without a second column.
DECEASED = "Meninggal dunia"
END_REASONS = {"pindah": "Pindah domisili", "meninggal": DECEASED,
               "tidak-layak-lagi": "Tidak layak lagi", "lainnya": "Alasan lain"}

REJECTION_REASONS = {
    "mampu": "Keluarga dinilai mampu",
    "asn-tni-polri": "Anggota keluarga ASN, TNI atau Polri",
    "bukan-domisili": "Tidak berdomisili di Banyuwangi",
    "data-tidak-sesuai": "Data tidak sesuai dengan kenyataan",
    "meninggal-pindah": "Meninggal dunia atau pindah",
    "lainnya": "Alasan lain",
}


def role_label(role: str) -> str:
    return ACTOR_LABELS.get(role, role)


def mid_sentence(label: str) -> str:
    """A label inside a sentence: only its first letter lowered, so proper nouns and acronyms
    keep their capitals ("Tidak berdomisili di Banyuwangi" -> "tidak berdomisili di Banyuwangi",
    "ASN" stays "ASN")."""
    first = label.split(" ", 1)[0]
    if not label or first.isupper():
        return label
    return label[0].lower() + label[1:]


def scheme_label(name: str, *details: str) -> str:
    """`Nama (KODE, …)`; a name that already ends in brackets takes the details inside them,
    `Rantang Kasih (makanan untuk lansia sebatang kara; RANTANG-KASIH)`: never two brackets."""
    inner = ", ".join(d for d in details if d)
    if not inner:
        return name
    if name.endswith(")"):
        return f"{name[:-1]}; {inner})"
    return f"{name} ({inner})"
