"""A text browser: lynx checks a NIK and reports someone, through plain form posts.

lynx fetches every page itself (its own HTTP, redirects after POST, cookies) and renders it as
a lynx user reads it (`-dump`); the test reads the forms in the HTML it received and submits
what a lynx user would type, as `-post_data`. Debian's lynx.cfg keeps no cookie between two
lynx processes, so each run gets a small config that reads the session cookie from a file the
test keeps up to date from lynx's own `-mime_header` output.
"""
from __future__ import annotations

import html.parser
import re
import shutil
import subprocess
from urllib.parse import urlencode, urljoin

import pytest

LYNX = shutil.which("lynx")
pytestmark = pytest.mark.skipif(
    LYNX is None, reason="text-browser test skipped: lynx is missing "
                         "(apt-get install lynx; .ci/run installs it)")


class Forms(html.parser.HTMLParser):
    """The forms of a page: action, method and fields with their current values."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.forms, self._select, self._textarea = [], None, None
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get"),
                               "fields": [], "options": {}})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind not in ("radio", "checkbox") or "checked" in a:
                self.forms[-1]["fields"].append((a["name"], a.get("value", ""), kind))
        elif tag == "select":
            self._select = a.get("name")
            self.forms[-1]["options"][self._select] = []
        elif tag == "option" and self._select:
            self.forms[-1]["options"][self._select].append(a.get("value", ""))
            if "selected" in a:
                self.forms[-1]["fields"].append((self._select, a.get("value", ""), "select"))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.forms[-1]["fields"].append((self._textarea, "", "textarea"))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and self.forms:
            name, value, kind = self.forms[-1]["fields"][-1]
            self.forms[-1]["fields"][-1] = (name, value + data, kind)

    def find(self, action: str) -> dict:
        for form in self.forms:
            if form["action"].endswith(action):
                return form
        raise AssertionError(f"no form posting to {action}: {[f['action'] for f in self.forms]}")


class Lynx:
    def __init__(self, base_url: str, workdir):
        self.base = base_url
        self.jar = workdir / "cookies.txt"
        self.cfg = workdir / "lynx.cfg"
        self.cfg.write_text("INCLUDE:/etc/lynx/lynx.cfg\nPERSISTENT_COOKIES:TRUE\n"
                            "ACCEPT_ALL_COOKIES:TRUE\nSET_COOKIES:TRUE\n")
        self.cookies: dict[str, str] = {}
        self.jar.write_text("")
        self.url = base_url

    def _lynx(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([LYNX, f"-cfg={self.cfg}", "-display_charset=utf-8",
                                 "-assume_charset=utf-8", *args], input=stdin, text=True,
                                capture_output=True, timeout=30)
        return result.stdout

    def open(self, path: str, data: list[tuple[str, str]] | None = None):
        """GET (or POST `data`); returns (HTML source, the page as lynx shows it)."""
        self.url = urljoin(self.url, path)
        args = ["-mime_header", f"-cookie_file={self.jar}", "-cookie_save_file=/dev/null"]
        stdin = None
        if data is not None:
            args.append("-post_data")
            stdin = urlencode(data) + "\n---\n"
        raw = self._lynx(*args, self.url, stdin=stdin)
        head, _, source = raw.replace("\r\n", "\n").partition("\n\n")
        location = None
        for line in head.splitlines()[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie":
                cookie, _, rest = value.strip().split(";")[0].partition("=")
                self.cookies[cookie] = rest
            elif name.lower() == "location":
                location = value.strip()
        self.jar.write_text("".join(f"127.0.0.1\tFALSE\t/\tFALSE\t2147483647\t{k}\t{v}\n"
                                    for k, v in self.cookies.items()))
        # With -mime_header lynx shows a redirect instead of following it: follow it as a
        # plain lynx does (Post/Redirect/Get: a GET of the new location).
        status = int(head.split()[1])
        if status in (301, 302, 303, 307, 308) and location:
            assert status == 303 or data is None, f"POST answered {status}"
            return self.open(location)
        text = self._lynx("-dump", "-force_html", "-stdin", "-width=80", stdin=source)
        return source, " ".join(text.split())

    def submit(self, source: str, action: str, values: dict, button=None):
        """Fill the form posting to `action` as a lynx user would, and send it."""
        form = Forms(source).find(action)
        data = [(n, v) for n, v, kind in form["fields"] if n not in values]
        data += list(values.items())
        if button:
            data.append(button)
        return self.open(form["action"], data)


def test_lynx_checks_a_nik_and_reports(live_server, tmp_path):
    lynx = Lynx(live_server.url, tmp_path)
    source, text = lynx.open("/")
    assert "Cek bantuan sosial" in text and "NIK (16 angka di KTP atau KK)" in text
    assert "BUTTON) Cek" in text  # the form is usable: a text field and a button

    source, text = lynx.submit(source, "/cek", {"nik": live_server.covered[8]})
    assert "Sudah menerima bantuan" in text
    source, text = lynx.submit(source, "/cek", {"nik": "35101"})
    assert "NIK tidak valid" in text and "16 angka" in text
    person = live_server.take_uncovered()
    source, text = lynx.submit(source, "/cek", {"nik": person.nik})
    assert "Belum menerima bantuan" in text and "Laporkan orang ini" in text
    assert person.nik not in text and person.nama not in text

    # "Laporkan orang ini": the report form, the NIK carried over sealed in the POST body.
    source, text = lynx.submit(source, "/lapor", {})
    assert "Laporkan warga yang belum menerima bantuan" in text
    assert ("nik", person.nik, "text") in Forms(source).find("/lapor")["fields"]
    typed = {"hubungan": "orang-lain", "pelapor_nama": "Sri Rahayu", "nama": person.nama,
             "no_kk": person.no_kk or "", "alamat": "Dusun Krajan RT 002 RW 001",
             "kecamatan": person.kecamatan, "kategori": "sakit-menahun",
             "keterangan": "Sakit menahun, tidak bisa bekerja."}
    # "Tampilkan desa": the same form back, villages of that kecamatan listed, typing kept.
    source, text = lynx.submit(source, "/lapor", typed, button=("aksi", "desa"))
    form = Forms(source).find("/lapor")
    assert person.desa in form["options"]["kode_desa"]
    assert ("pelapor_nama", "Sri Rahayu", "text") in form["fields"]
    assert "Periksa lagi" not in text

    source, text = lynx.submit(source, "/lapor", {**typed, "kode_desa": person.desa})
    assert "Laporan Anda sudah diterima" in text, text[:600]
    kode = re.search(r"Kode laporan ([A-Z0-9]{4}-[A-Z0-9]{4})", text).group(1)
    assert "Menunggu penilaian" in text and "Apa selanjutnya?" in text

    # Following the report later by its code.
    source, text = lynx.open("/lacak?" + urlencode({"kode": kode.lower()}))
    assert "Status laporan" in text and kode in text and "Menunggu penilaian" in text
