"""Rate limits that protect residents instead of locking them out.

Every limit is per client, never for everyone at once: nothing a stranger sends can spend a quota
that other residents, the office kiosk or a staff member need. A client is a signed-in staff
account (by its id), or an anonymous address: IPv4 by address, IPv6 by its /64 (one household
or one phone gets a whole /64). The allowances are sized for a carrier's shared address (CGNAT,
normal on Indonesian mobile networks), where dozens of residents appear as one client:

- coverage answers (RATELIMIT_CAKUPAN): every answer about who is covered counts, wherever it is
  given: a NIK check, the stage-1 result of a stored report, a family found by No. KK. That is
  the one allowance that stands between a stranger and enumerating the register;
- stored reports (RATELIMIT_LAPORAN): only a report that was stored counts; opening the form,
  "Tampilkan desa" and a round with mistakes cost nothing;
- stored objections (RATELIMIT_SANGGAH);
- every anonymous POST (RATELIMIT_KIRIM): a generous ceiling on one client's requests, so one
  flooding client meets 429 (cheap to answer) long before it costs the others anything;
- sign-in attempts (RATELIMIT_MASUK): per account *and* client, so wrong passwords from other
  addresses never keep the owner out, plus per client across accounts. Counted before the
  password is checked (an atomic increment): 24 parallel guesses cannot all be checked.

Counters live in the `limits` library's storage (RATELIMIT_STORAGE_URI: a local SQLite file
shared by the gunicorn workers by default, Redis for several hosts). The heaviest clients are
shed first at the edge as well: nginx's per-address connection and request limits
(deploy/nginx.conf.example) answer 429 before a flood reaches a worker.

The two allowances every check spends (coverage answers and form posts) are tallied in the
worker and written to the shared storage in one transaction by the first check after
FLUSH_SECONDS (a busy worker: ten times a second), not one write per request: a shared write per
check cost more than the check itself. A client's hits are written at once (exactly, as for
every other allowance) as soon as this worker has seen a quarter of its allowance, so a worker
never holds more than a quarter of any client's allowance unwritten: at worst a client spread
over W workers gets W quarters more before each counts it exactly. Sign-ins, reports and
objections are always counted exactly.
"""
from __future__ import annotations

import ipaddress
import math
import threading
import time
from dataclasses import dataclass
from functools import wraps

from flask import current_app, make_response, render_template, request, session
from flask_login import current_user
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from web import ratelimit  # noqa: F401  (registers the sqlite:// storage with `limits`)

TOO_MANY = {
    "cek": "Terlalu banyak pengecekan NIK dari jaringan Anda dalam waktu singkat. Untuk "
           "melindungi data warga, jumlah pengecekan dibatasi.",
    "lapor": "Terlalu banyak laporan dikirim dari jaringan Anda dalam waktu singkat.",
    "sanggah": "Terlalu banyak sanggahan dikirim dari jaringan Anda dalam waktu singkat.",
    "masuk": "Terlalu banyak percobaan masuk. Akun tidak dikunci; tunggu sebentar.",
    "kirim": "Anda mengirim terlalu banyak permintaan dalam waktu singkat.",
    "loket": "Terlalu banyak pencarian keluarga dari akun Anda di loket beras dalam waktu "
             "singkat. Untuk melindungi data warga, jumlah pencarian dibatasi.",
    "cek-massal": "Terlalu banyak cek massal dari akun Anda. Untuk melindungi data warga, "
                  "jumlah daftar yang dicek dibatasi.",
}


class Limited(TooManyRequests):
    """A client's allowance is spent: which area (for the message) and when it renews."""

    def __init__(self, area: str, retry_after: int):
        super().__init__()
        self.area, self.retry_after = area, retry_after


@dataclass
class Allowance:
    area: str  # the message's key in TOO_MANY
    setting: str  # the config name of its limits, e.g. "20 per minute;300 per day"
    staff_setting: str | None = None  # a signed-in account's own, larger allowance
    tallied: bool = False  # counted in the worker first (see the module's docstring)


FLUSH_SECONDS = 0.1  # a busy worker writes its tally this often
TALLY_SHARE = 4  # a client is counted exactly from a quarter of its allowance on
CAKUPAN = Allowance("cek", "RATELIMIT_CAKUPAN", "RATELIMIT_CAKUPAN_PETUGAS", tallied=True)
LAPORAN = Allowance("lapor", "RATELIMIT_LAPORAN", "RATELIMIT_LAPORAN_PETUGAS")
SANGGAH = Allowance("sanggah", "RATELIMIT_SANGGAH")
KIRIM = Allowance("kirim", "RATELIMIT_KIRIM", tallied=True)
MASUK_AKUN = Allowance("masuk", "RATELIMIT_MASUK_AKUN")
MASUK = Allowance("masuk", "RATELIMIT_MASUK")
CEK_MASSAL = Allowance("cek-massal", "RATELIMIT_CEK_MASSAL")  # lists per signed-in account
LOKET = Allowance("loket", "RATELIMIT_LOKET")  # rice counter look-ups per signed-in account


def client_key() -> str:
    """Who is asking: a staff account, or an address (IPv6 by its /64)."""
    # A resident has no session at all: skip loading a user (the check's hot path).
    if session.get("_user_id") and current_user.is_authenticated:
        return f"akun:{current_user.id}"
    address = request.remote_addr or "?"
    key = _ADDRESS_KEYS.get(address)
    if key is None:
        if len(_ADDRESS_KEYS) >= 10_000:
            _ADDRESS_KEYS.clear()
        key = _ADDRESS_KEYS[address] = address_key(address)
    return key


_ADDRESS_KEYS: dict[str, str] = {}  # the addresses this worker saw lately, parsed once


def address_key(address: str) -> str:
    """`ip:a.b.c.d`, or `ip6:<the /64>` for IPv6 (an IPv4-mapped address is its IPv4)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "ip:" + address[:64]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is an IPv4 client
            return "ip:" + str(ip.ipv4_mapped)
        return "ip6:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return "ip:" + str(ip)


class RateLimits:
    """Counters over the `limits` library, created in extensions.py and bound by init_app."""

    def __init__(self):
        self.enabled = True
        self.storage = None
        self.strategy = None
        self._config = {}
        self._parsed: dict[str, list] = {}
        self.failed_at: float | None = None  # when the storage last failed (this worker)
        # key -> [hits not yet written, the shared count last seen, expiry, amount]
        self._tally: dict[str, list] = {}
        self._keys: dict[tuple, list[str]] = {}  # a client's counter keys, made once
        self._flush_at = 0.0
        self._lock = threading.Lock()

    def init_app(self, app) -> None:
        self.enabled = bool(app.config["RATELIMIT_ENABLED"])
        self.storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
        self.strategy = FixedWindowRateLimiter(self.storage)
        self._config = app.config
        self._parsed = {}
        self._tally.clear()
        self._keys.clear()
        app.register_error_handler(Limited, too_many_requests)
        app.extensions["rate_limits"] = self

    def reset(self) -> None:
        self._tally.clear()
        if self.storage is not None:
            self.storage.reset()

    def _items(self, allowance: Allowance, staff: bool):
        name = allowance.staff_setting if staff and allowance.staff_setting else allowance.setting
        value = self._config[name]
        items = self._parsed.get(value)
        if items is None:
            items = self._parsed[value] = parse_many(value)
        return items

    def hit(self, allowance: Allowance, *extra: str, client: str | None = None) -> None:
        """Count one use for this client (and `extra` key parts); Limited when spent.

        `client` names the client outside a web request (e.g. `sms:<hash of the number>`), or
        the request's client when the caller already asked client_key(); by default it is
        the request's (client_key()).
        """
        self._check(allowance, extra, count=True, client=client)

    def check(self, allowance: Allowance, *extra: str, client: str | None = None) -> None:
        """Limited when this client's allowance is already spent; counts nothing."""
        self._check(allowance, extra, count=False, client=client)

    def _check(self, allowance: Allowance, extra: tuple[str, ...], count: bool,
               client: str | None) -> None:
        if not (self.enabled and self._config.get("RATELIMIT_ENABLED", True)):
            return
        try:
            self._count(allowance, extra, count, client)
        except Limited:
            raise
        except Exception as exc:  # noqa: BLE001 - the counters' storage failed
            # A full disk, a locked or lost SQLite file, Redis gone: the counters cannot be
            # kept, and a resident's check must still be answered. Let the request through,
            # say so in the log (once a minute per worker) and on /sehat. Sign-in attempts
            # are the exception: a password guesser gains nothing from a full disk.
            now = time.time()
            if now - (self.failed_at or 0) > 60:
                current_app.logger.error("rate-limit storage failed, requests let through: %s",
                                         exc)
            self.failed_at = now
            if allowance.area == "masuk":
                raise Limited(allowance.area, 60) from None

    def storage_problem(self) -> str | None:
        """For /sehat: why the counters cannot be kept right now, or None."""
        if self.failed_at and time.time() - self.failed_at < 300:
            return "gagal menyimpan hitungan dalam 5 menit terakhir"
        try:
            if self.storage is not None and not self.storage.check():
                return "tidak dapat dihubungi"
        except Exception:  # noqa: BLE001
            return "tidak dapat dihubungi"
        return None

    def _count(self, allowance: Allowance, extra: tuple[str, ...], count: bool,
               client: str | None) -> None:
        key = client or client_key()
        items = self._items(allowance, key.startswith("akun:"))
        parts = (allowance.setting, key, *extra)
        if count and allowance.tallied:
            self._tally_hit(allowance, items, parts)
            return
        if count:  # every window in one write
            counts = self._write([(item.key_for(*parts), item.get_expiry(), 1)
                                  for item in items])
            for item, used in zip(items, counts, strict=True):
                if used > item.amount:
                    self._limited(allowance, item, parts)
            return
        if allowance.tallied:
            self.flush()  # what this worker tallied counts too
        for item in items:
            if not self.strategy.test(item, *parts):
                self._limited(allowance, item, parts)

    def _limited(self, allowance: Allowance, item, parts) -> None:
        reset_at = self.strategy.get_window_stats(item, *parts).reset_time
        raise Limited(allowance.area, max(math.ceil(reset_at - time.time()), 1))

    def _write(self, entries: list[tuple[str, int, int]]) -> list[int]:
        """Add (key, expiry, hits) to the shared counters; their new values. One write
        transaction where the storage offers it (web/ratelimit.py)."""
        incr_many = getattr(self.storage, "incr_many", None)
        if incr_many is not None:
            return incr_many(entries)
        return [self.storage.incr(key, expiry, amount=hits) for key, expiry, hits in entries]

    def _tally_hit(self, allowance: Allowance, items, parts) -> None:
        """Count a hit in this worker; write the tally when it is due or when this client
        nears a quarter of its allowance, and refuse a client the shared count says is over."""
        known = (id(items), *parts)  # the parsed limits stay in self._parsed: ids stay theirs
        keys = self._keys.get(known)
        if keys is None:
            if len(self._keys) >= 10_000:
                self._keys.clear()
            keys = self._keys[known] = [item.key_for(*parts) for item in items]
        exact = False
        with self._lock:
            for item, key in zip(items, keys, strict=True):
                entry = self._tally.get(key)
                if entry is None:
                    entry = self._tally[key] = [0, 0, item.get_expiry(), item.amount]
                entry[0] += 1
                exact = exact or (entry[0] + entry[1]) * TALLY_SHARE > item.amount
        if not exact and time.monotonic() < self._flush_at:
            return
        self.flush()
        for item, key in zip(items, keys, strict=True):
            entry = self._tally.get(key)
            if entry is not None and entry[1] > item.amount:
                self._limited(allowance, item, parts)

    def flush(self) -> None:
        """Write this worker's tallied hits to the shared storage (one transaction), and
        forget the clients that are still far from their allowance."""
        with self._lock:
            self._flush_at = time.monotonic() + FLUSH_SECONDS
            pending = [(key, entry[2], entry[0]) for key, entry in self._tally.items()
                       if entry[0]]
            if not pending:
                return
            try:
                counts = self._write(pending)
            except Exception:
                self._tally.clear()  # these hits are lost with the storage; never counted twice
                raise
            for (key, _expiry, _hits), used in zip(pending, counts, strict=True):
                entry = self._tally[key]
                entry[0], entry[1] = 0, used
            for key in [key for key, entry in self._tally.items()
                        if not entry[0] and entry[1] * TALLY_SHARE <= entry[3]]:
                del self._tally[key]


def too_many_requests(exc: Limited):
    """A friendly Indonesian page with when to try again; a fragment in place for htmx."""
    wait = exc.retry_after
    minutes = -(-wait // 60)
    when = (f"sekitar {minutes} menit" if minutes < 90 else f"sekitar {-(-minutes // 60)} jam")
    message = TOO_MANY.get(exc.area, TOO_MANY["kirim"]) + f" Silakan coba lagi dalam {when}."
    context = {"code": 429, "title": "Terlalu banyak permintaan", "message": message}
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        # The htmx config in base.html swaps 429s: the message replaces the page's main content.
        body = render_template("errors/error.html", fragment=True, **context)
        response = make_response(body, 429)
        response.headers.update({"HX-Retarget": "#isi", "HX-Reswap": "innerHTML"})
    else:
        response = make_response(render_template("errors/error.html", **context), 429)
    response.headers["Retry-After"] = str(wait)
    response.headers["Cache-Control"] = "no-store"
    return response


def limits():
    """The app's RateLimits (bound in extensions.py, registered by init_app)."""
    return current_app.extensions["rate_limits"]


def login_limits(view):
    """Sign-in attempts per address, and per account from that address; counted before the
    password is checked, so parallel guesses cannot slip past the count."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.method == "POST":
            limits().hit(MASUK)
            username = (request.form.get("username") or "").strip().lower()[:50]
            if username:
                limits().hit(MASUK_AKUN, "akun", username)
        return view(*args, **kwargs)
    return wrapped


def code_limits(key_func):
    """One-time codes (and password changes) per address and per pending account: six digits
    must not be guessed, and a guess from elsewhere does not count against the owner."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if request.method == "POST":
                limits().hit(MASUK)
                limits().hit(MASUK_AKUN, "kode", key_func())
            return view(*args, **kwargs)
        return wrapped
    return decorate
