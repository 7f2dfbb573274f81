"""Error pages: Indonesian, generic, never a traceback, for every error the app can answer."""
from __future__ import annotations

from flask import current_app, render_template
from flask_wtf.csrf import CSRFError
from peewee import OperationalError

ERRORS = {
    400: ("Permintaan tidak dapat diproses", "Isian yang dikirim tidak dapat dibaca. Buka ulang "
          "halaman, lalu isi dan kirim lagi."),
    403: ("Tidak diizinkan", "Akun Anda tidak boleh membuka halaman ini."),
    405: ("Cara membuka halaman tidak sesuai", "Halaman ini tidak dapat dibuka dengan cara itu. "
          "Kembali ke halaman utama, lalu coba lagi dari sana."),
    413: ("Isian terlalu besar", "Isian yang dikirim terlalu panjang. Persingkat, lalu kirim "
          "lagi."),
}


def http_error(exc):
    return _page(exc.code, *ERRORS[exc.code])


def _page(code: int, title: str, message: str):
    return render_template("errors/error.html", code=code, title=title, message=message), code


def not_found(exc):
    return _page(404, "Halaman tidak ditemukan", "Alamat yang Anda buka tidak ada.")


def csrf_failed(exc):
    return _page(400, "Formulir kedaluwarsa", "Formulir sudah kedaluwarsa atau tidak sah. "
                 "Silakan buka ulang halaman lalu kirim lagi.")


def database_busy(exc):
    current_app.logger.error("database error: %s", exc)
    return _page(503, "Layanan belum dapat menyimpan", "Layanan tidak dapat menyimpan data saat "
                 "ini. Silakan coba lagi dalam beberapa saat.")


def server_error(exc):
    return _page(500, "Terjadi kesalahan", "Maaf, terjadi kesalahan di server. Silakan coba lagi.")


def init_app(app) -> None:
    for code in ERRORS:
        app.register_error_handler(code, http_error)
    app.register_error_handler(404, not_found)
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(OperationalError, database_busy)
    app.register_error_handler(500, server_error)
