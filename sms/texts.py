"""Every text the office's number sends, in Indonesian, at most 160 GSM-7 characters each.

The same words as the web pages (statuses, levels, reasons from vocabulary.py; dates through
formats.long_date). No text carries a NIK or a full name: a person appears only as the masked
name the public pages show, and case updates name only the tracking code. A text that does not
fit one message is first shortened (the scheme's code without its name), then split.
"""
from __future__ import annotations

from covering import Coverage
from formats import long_date, mask_name
from sms import gsm7
from vocabulary import REJECTION_REASONS

BRAND = "Cek Bansos"
CEK_USAGE = ("Ketik CEK, spasi, lalu NIK 16 angka dari KTP atau KK. Contoh: "
             "CEK 35xxxxxxxxxxxxxx")
LACAK_USAGE = ("Ketik LACAK, spasi, lalu kode laporan 8 huruf dan angka dari bukti laporan. "
               "Contoh: LACAK ABCD-2345")
NOT_FOUND = ("Kode laporan tidak ditemukan. Periksa lagi kode pada bukti laporan: 8 huruf dan "
             "angka, misalnya LACAK ABCD-2345.")


def fit(*versions: str) -> list[str]:
    """The first version that fits one message; else the last one, split into parts."""
    for text in versions:
        parts = gsm7.split(text)
        if len(parts) == 1:
            return parts
    return gsm7.split(versions[-1])


def help_text(office_phone: str = "") -> str:
    where = f"Info: {office_phone}." if office_phone else "Info: kantor desa/kelurahan."
    return (f"{BRAND} Banyuwangi. Ketik CEK spasi NIK untuk cek bantuan sosial, atau "
            f"LACAK spasi kode untuk status laporan. {where}")


def wait_words(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"sekitar {minutes} menit" if minutes < 90 else f"sekitar {-(-minutes // 60)} jam"


def too_many(retry_after: int) -> str:
    return ("Terlalu banyak pengecekan NIK dari nomor ini. Untuk melindungi data warga, "
            f"coba lagi dalam {wait_words(retry_after)}.")


def invalid_nik(message: str) -> list[str]:
    return fit(f"NIK tidak valid. {message}")


def coverage(c: Coverage, aside=None) -> list[str]:
    """The check's answer, as the public page gives it (web: templates/public/home.html).

    `aside` (cases.lookup.Aside) for a NIK nothing covers: a report already being assessed and
    its decision date, or the enrolment that ended and since when; no report is invited then.
    """
    who = mask_name(c.nama)
    at = f"{who}, {c.desa}" if who and c.desa else who
    if c.status == "terdaftar":
        return fit(f"{BRAND}: {at or 'NIK ini'}: terdaftar di {c.skema_nama} ({c.skema}), "
                   f"bantuan tingkat {c.level_label}.",
                   f"{BRAND}: {who or 'NIK ini'}: terdaftar di {c.skema}, bantuan tingkat "
                   f"{c.level_label}.")
    if c.status == "keluarga-terdaftar":
        family = f"{BRAND}: {at or 'NIK ini'}: keluarganya (No. KK sama) terdaftar di"
        return fit(f"{family} {c.skema_nama} ({c.skema}), tingkat {c.level_label}. Satu "
                   "keluarga satu bantuan.",
                   f"{family} {c.skema}, tingkat {c.level_label}. Satu keluarga satu bantuan.",
                   f"{BRAND}: {who or 'NIK ini'}: keluarganya terdaftar di {c.skema}, tingkat "
                   f"{c.level_label}.")
    if aside is not None and aside.decision_due is not None:
        due = long_date(aside.decision_due)
        return fit(f"{BRAND}: {at or 'NIK ini'}: laporan tentang orang ini sedang dinilai tim; "
                   f"keputusan paling lambat {due}. Tidak perlu melapor lagi.",
                   f"{BRAND}: laporan tentang NIK ini sedang dinilai; keputusan paling lambat "
                   f"{due}.")
    if aside is not None and aside.ended is not None:
        since = (f"{BRAND}: {at or 'NIK ini'}: tidak lagi terdaftar di {aside.ended_scheme} "
                 f"sejak {long_date(aside.ended)}.")
        if not aside.invites_report:
            return fit(since)
        return fit(since + " Jika membutuhkan, laporkan di kantor desa/kelurahan.", since)
    return fit(f"{BRAND}: {at + ', ' if at else 'NIK ini '}belum terdaftar sebagai penerima "
               "bansos. Jika membutuhkan, laporkan di kantor desa/kelurahan atau situs Cek "
               "Bansos.",
               f"{BRAND}: {who + ' ' if who else 'NIK ini '}belum terdaftar sebagai penerima "
               "bansos. Laporkan di kantor desa/kelurahan.")


def days_left(days: int | None) -> str:
    if days is None:
        return ""
    if days > 0:
        return f" (sisa {days} hari)"
    if days == 0:
        return " (hari ini)"
    return f", sudah terlambat {-days} hari"


def report_status(report) -> list[str]:
    """LACAK for a report: its status and what comes next by when (web: reports/_status.html)."""
    who = mask_name(report.nama)
    head = f"Laporan {report.kode_display}" + (f" ({who})" if who else "")
    short = f"Laporan {report.kode_display}"
    status = report.status
    if status == "menunggu-penilaian":
        rest = (f": menunggu penilaian tim, paling lambat {long_date(report.tenggat)}"
                f"{days_left(report.days_left)}.")
    elif status == "layak":
        rest = (f": layak, didaftarkan di {report.skema_kode}. Bantuan diserahkan paling lambat "
                f"{long_date(report.tenggat)}{days_left(report.days_left)}.")
    elif status == "tidak-layak":
        rest = f": tidak layak. Alasan: {REJECTION_REASONS.get(report.alasan, '-')}."
    elif status == "tersalurkan":
        rest = f": bantuan sudah diserahkan {long_date(report.tanggal_salur)}. Laporan selesai."
    else:  # ditolak-otomatis
        whose = "orangnya" if report.penutup_via == "nik" else "keluarganya"
        rest = (f": ditolak otomatis, {whose} sudah terdaftar di {report.skema_penutup_kode}. "
                "Satu orang atau keluarga menerima satu bantuan.")
    return fit(head + rest, short + rest)


def objection_status(objection) -> list[str]:
    """LACAK for an objection: never the recipient's name, nor the objectors'."""
    head = f"Sanggahan {objection.kode_display}"
    if objection.status == "dipertahankan":
        return fit(f"{head}: penerima tetap terdaftar (sanggahan tidak diterima).")
    if objection.status == "diakhiri":
        return fit(f"{head} diterima: kepesertaan penerima diakhiri per "
                   f"{long_date(objection.tanggal_berakhir)}.")
    return fit(f"{head}: menunggu penilaian tim, paling lambat {long_date(objection.tenggat)}"
               f"{days_left(objection.days_left)}.")


# --- Updates on a case, to reporters and objectors who asked for them --------------------------

def report_received(report, outcome: str) -> list[str]:
    code, plain = report.kode_display, report.kode
    if outcome == "gabung":
        return fit(f"{BRAND}: laporan Anda digabung dengan laporan {code} tentang orang yang "
                   f"sama. Status: kirim LACAK {plain} ke nomor ini.")
    if outcome == "ditolak":
        return report_status(report)
    return fit(f"{BRAND}: laporan Anda diterima, kode {code}. Tim menilai paling lambat "
               f"{long_date(report.tenggat)}. Status: kirim LACAK {plain} ke nomor ini.")


def report_decided(report) -> list[str]:
    code = report.kode_display
    if report.status == "layak":
        return fit(f"{BRAND}: laporan {code} dinilai LAYAK, didaftarkan di {report.skema_kode}. "
                   f"Bantuan diserahkan paling lambat {long_date(report.tenggat)}.")
    return fit(f"{BRAND}: laporan {code} dinilai tidak layak. Alasan: "
               f"{REJECTION_REASONS.get(report.alasan, '-')}.")


def report_delivered(report) -> list[str]:
    return fit(f"{BRAND}: laporan {report.kode_display}: bantuan sudah diserahkan "
               f"{long_date(report.tanggal_salur)}. Laporan selesai. Terima kasih.")


def objection_received(objection) -> list[str]:
    return fit(f"{BRAND}: sanggahan Anda diterima, kode {objection.kode_display}. Tim menilai "
               f"paling lambat {long_date(objection.tenggat)}.")

