"""nginx in front of gunicorn, as deployed: deploy/nginx.conf.example itself, rendered for a
loopback port by tests/browser/nginx_support.py, before a seeded register under gunicorn with 2
sync workers and PROXY_FIX=1 (tests/browser/e2e_support.py).

Keep-alive to the client, hashed static files served by nginx with their precompressed
siblings, half-open clients that never reach a worker, the body limits, one address's flood
shed with 429 at the edge, and a bounded load test with no error. Skipped, with the reason,
where nginx is not installed.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import re
import socket
import sys
import threading
import time
from pathlib import Path

import brotli
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
import e2e_support  # noqa: E402
import nginx_support  # noqa: E402

pytestmark = pytest.mark.skipif(nginx_support.missing() is not None,
                                reason=f"nginx tests skipped: {nginx_support.missing()}")

PORTS = range(8511, 8520)  # the browser tests keep 8501-8509
CEK_HEADERS = {"Content-Type": "application/x-www-form-urlencoded",
               "Sec-Fetch-Site": "same-origin"}
EXAMPLE = nginx_support.EXAMPLE.read_text()
CONN_LIMIT = int(re.search(r"limit_conn cekbansos_addr (\d+);", EXAMPLE).group(1))
POST_BURST = int(re.search(r"zone=cekbansos_post burst=(\d+)", EXAMPLE).group(1))
POST_RATE = int(re.search(r"zone=cekbansos_post:\w+ rate=(\d+)r/s", EXAMPLE).group(1))


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """gunicorn (2 sync workers) behind nginx on 127.0.0.1:8511-8519, 300 seeded residents."""
    server = e2e_support.start(tmp_path_factory.mktemp("nginx"), people=300, workers=2,
                               ports=PORTS)
    yield server
    server.stop()


def connect(url: str, source: str = "127.0.0.1", timeout: float = 10) -> http.client.HTTPConnection:
    """A client connection to `url` (always 127.0.0.1) from a loopback address of its own:
    nginx counts its limits per client address, as it would for different households."""
    port = int(url.rsplit(":", 1)[1])
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))


def request(conn, method: str, path: str, body: bytes | None = None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def cek(conn, nik: str):
    return request(conn, "POST", "/cek", f"nik={nik}".encode(), CEK_HEADERS)


def raw_socket(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))


def read_head(sock: socket.socket) -> bytes:
    """The status line and headers nginx sent back (up to the blank line)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


# --- (a) keep-alive --------------------------------------------------------------------------

def test_the_client_connection_stays_open_between_pages(pair):
    conn = connect(pair.url)
    response, _ = request(conn, "GET", "/")
    assert response.status == 200
    assert response.getheader("Connection", "").lower() == "keep-alive"
    assert response.getheader("Server") == "nginx"  # no version, no `gunicorn` behind it
    first = conn.sock
    response, _ = request(conn, "GET", "/lapor")
    assert response.status == 200
    assert conn.sock is first, "the second page came over a new connection"
    response, _ = cek(conn, pair.covered[0])
    assert response.status == 200 and conn.sock is first
    conn.close()
    # gunicorn's sync workers close the connection after every response: nginx keeps it.
    direct = connect(pair.app_url)
    response, _ = request(direct, "GET", "/")
    assert response.getheader("Connection", "").lower() == "close"
    direct.close()


def test_the_access_log_has_no_query_string(pair):
    conn = connect(pair.url, "127.0.5.1")
    request(conn, "GET", "/lacak?kode=ZZZZ2222")
    conn.close()
    # nginx writes the line once the response has gone out, so it may come a moment later.
    deadline = time.monotonic() + 5
    log = pair.nginx.access_log.read_text()
    while '127.0.5.1 [' not in log and time.monotonic() < deadline:
        time.sleep(0.05)
        log = pair.nginx.access_log.read_text()
    assert '127.0.5.1 [' in log and '"GET /lacak" ' in log and "ZZZZ2222" not in log


# --- forwarded headers ---------------------------------------------------------------------

def test_forwarded_headers_are_nginx_s_not_the_client_s(pair):
    """nginx replaces whatever a client claims in X-Forwarded-*; the app (PROXY_FIX=1) trusts
    what nginx says: the client's own address, scheme and host."""
    spoofed = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "evil.example"}
    conn = connect(pair.url, "127.0.4.1")
    response, _ = request(conn, "GET", "/masuk", headers=spoofed)
    assert response.status == 200
    assert response.getheader("Set-Cookie", "").startswith("sesi="), "not taken for HTTPS"
    # The origin check compares with the host nginx forwards (with its port).
    form = {**spoofed, "Content-Type": CEK_HEADERS["Content-Type"]}  # no Sec-Fetch-Site
    for claimed, status in ((pair.url, 200), ("http://evil.example", 403)):
        response, _ = request(conn, "POST", "/cek", f"nik={pair.covered[0]}".encode(),
                              {**form, "Origin": claimed})
        assert response.status == status, claimed
    conn.close()
    # gunicorn logs the address the app saw: the client's, not the one it claimed.
    deadline = time.monotonic() + 5
    while '127.0.4.1 [' not in pair.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    log = pair.log_path.read_text()
    assert '"GET /masuk"' in log and "127.0.4.1 [" in log and "203.0.113.9" not in log
    # Straight to gunicorn the same claim is believed: PROXY_FIX=1 is on, nginx must be the
    # only way in (gunicorn listens on 127.0.0.1 only).
    direct = connect(pair.app_url)
    response, _ = request(direct, "GET", "/masuk", headers=spoofed)
    assert response.getheader("Set-Cookie", "").startswith("__Host-sesi=")
    direct.close()


# --- (b) static files ------------------------------------------------------------------------

def test_hashed_static_files_are_served_by_nginx_precompressed_and_immutable(tmp_path):
    """With nothing listening behind nginx at all: what answers is nginx alone."""
    static = tmp_path / "static"
    static.mkdir()
    css = (nginx_support.ROOT / "static" / "style.css").read_bytes()
    name = f"style-{hashlib.md5(css).hexdigest()}.css"  # as `make assets` names it
    (static / name).write_bytes(css)
    (static / f"{name}.gz").write_bytes(gzip.compress(css))
    (static / f"{name}.br").write_bytes(brotli.compress(css))
    server = nginx_support.start(tmp_path / "nginx", e2e_support.free_port(PORTS),
                                 upstream="127.0.0.1:9", static=static)  # nothing on port 9
    try:
        conn = connect(server.url)
        decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}
        for encoding in ("br", "gzip", None):
            headers = {"Accept-Encoding": encoding} if encoding else {}
            response, body = request(conn, "GET", f"/static/{name}", headers=headers)
            assert response.status == 200, encoding
            assert response.getheader("Content-Encoding") == encoding
            assert decode[encoding](body) == css
            assert response.getheader("Content-Type") == "text/css"
            assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
            assert "accept-encoding" in response.getheader("Vary", "").lower()
            if encoding:
                assert len(body) < len(css)
        # Everything else goes to the app, which is not there: 502 from nginx.
        for path in ("/", "/static/style.css", f"/static/{name}.br"):
            response, _ = request(conn, "GET", path)
            assert response.status == 502, path
        conn.close()
    finally:
        server.stop()


# --- (c) half-open clients -------------------------------------------------------------------

HALF_OPEN = [
    b"GET / HTT",  # a request line, cut off
    b"POST /ce",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Nokia",  # headers, cut off
    b"POST /cek HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form",
    # a body, cut off (nginx reads the whole request before gunicorn sees any of it)
    b"POST /cek HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n\r\nnik=3510",
    b"POST /lapor HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\nnama=",
]


def open_half_open(port: int) -> list[socket.socket]:
    sockets = []
    for data in HALF_OPEN:
        sock = raw_socket(port)
        sock.sendall(data)
        sockets.append(sock)
    time.sleep(0.3)  # accepted and read by whoever accepts them
    return sockets


def timed_check(url: str, nik: str, timeout: float) -> tuple[int | None, float]:
    """POST /cek on a new connection; (status or None on a time-out, seconds taken)."""
    started = time.monotonic()
    conn = connect(url, timeout=timeout)
    try:
        response, _ = cek(conn, nik)
        return response.status, time.monotonic() - started
    except TimeoutError:
        return None, time.monotonic() - started
    finally:
        conn.close()


def test_half_open_clients_do_not_delay_a_check(pair):
    sockets = open_half_open(pair.nginx.port)
    try:
        status, seconds = timed_check(pair.url, pair.covered[1], timeout=5)
        print(f"\ncheck through nginx with {len(sockets)} half-open clients: {seconds:.3f} s")
        assert status == 200
        assert seconds < 2
    finally:
        for sock in sockets:
            sock.close()


def test_without_nginx_the_same_clients_hold_both_workers(pair):
    """Why nginx is there: straight to gunicorn, six half-open clients take both sync
    workers, and the check waits until they go away."""
    sockets = open_half_open(int(pair.app_url.rsplit(":", 1)[1]))
    try:
        status, seconds = timed_check(pair.app_url, pair.covered[1], timeout=2)
        print(f"\ncheck straight to gunicorn with {len(sockets)} half-open clients: "
              f"{'no answer' if status is None else status} after {seconds:.3f} s")
        assert status is None
    finally:
        for sock in sockets:
            sock.close()
    status, _seconds = timed_check(pair.app_url, pair.covered[1], timeout=10)
    assert status == 200  # the workers are free again


# --- (d) body limits -------------------------------------------------------------------------

def announced(port: int, path: str, length: int) -> bytes:
    """Send only the headers of a POST announcing `length` bytes; nginx's answer (head)."""
    sock = raw_socket(port)
    try:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n\r\n".encode())
        return read_head(sock)
    finally:
        sock.close()


def test_bodies_over_the_limit_get_413_from_nginx(pair):
    port = pair.nginx.port
    limit = 64 * 1024  # the app's MAX_CONTENT_LENGTH, client_max_body_size 64k
    head = announced(port, "/cek", limit + 1)
    assert head.startswith(b"HTTP/1.1 413 "), head
    assert b"text/html; charset=utf-8" in head
    # The upload forms allow 300 MiB (IMPORT_MAX_BYTES), and not a byte more.
    for path in ("/admin/impor", "/beras/1/impor"):
        assert announced(port, path, 300 * 1024 * 1024 + 1).startswith(b"HTTP/1.1 413 ")
    assert "client intended to send too large body" in pair.nginx.error_log.read_text()
    assert b"Content-Security-Policy" not in head  # the app sets it on every answer
    # At the limit, the form reaches the app; a megabyte reaches the upload forms (whose
    # answer here, nobody being signed in, is the app's own business).
    conn = connect(pair.url)
    body = f"nik={pair.covered[2]}&isi=".encode()
    response, page = request(conn, "POST", "/cek", body + b"x" * (limit - len(body)),
                             CEK_HEADERS)
    assert response.status == 200 and b"hasil-cek" in page
    for path in ("/admin/impor", "/beras/1/impor"):
        response, _ = request(conn, "POST", path, b"x" * (1024 * 1024),
                              {"Content-Type": "application/x-www-form-urlencoded"})
        assert response.getheader("Content-Security-Policy"), (path, response.status)
        assert response.status < 500, path
    conn.close()


# --- shedding one address's flood --------------------------------------------------------------

def test_one_address_over_its_requests_in_progress_meets_429(pair):
    """limit_conn: CONN_LIMIT requests in progress from one address (here POSTs whose body
    never comes), then the next request from it gets 429; other addresses are served."""
    port, source = pair.nginx.port, "127.0.2.1"
    stalled = []
    try:
        for _ in range(CONN_LIMIT):
            sock = raw_socket(port, source)
            sock.sendall(b"POST /cek HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
            stalled.append(sock)
        deadline, status = time.monotonic() + 5, None
        while status != 429 and time.monotonic() < deadline:
            conn = connect(pair.url, source)
            response, body = request(conn, "GET", "/")
            status = response.status
            conn.close()
            time.sleep(0.05)
        assert status == 429
        assert "Terlalu banyak permintaan" in body.decode()
        assert response.getheader("Retry-After") == "60"
        other = connect(pair.url, "127.0.2.2")
        assert request(other, "GET", "/")[0].status == 200
        other.close()
    finally:
        for sock in stalled:
            sock.close()
    time.sleep(0.3)
    conn = connect(pair.url, source)
    assert request(conn, "GET", "/")[0].status == 200  # in progress, not a ban
    conn.close()


def test_one_address_posting_too_fast_meets_429(pair):
    """limit_req: a burst of POST_BURST at once, then POST_RATE a second; GETs not counted."""
    conn = connect(pair.url, "127.0.3.1")
    statuses = []
    started = time.monotonic()
    for _ in range(POST_BURST + 60):
        statuses.append(cek(conn, pair.covered[3])[0].status)
    seconds = time.monotonic() - started
    assert set(statuses) == {200, 429}
    answered = statuses.count(200)
    assert POST_BURST < answered <= POST_BURST + 1 + POST_RATE * seconds + 1, (answered, seconds)
    assert request(conn, "GET", "/")[0].status == 200
    conn.close()


# --- (e) load --------------------------------------------------------------------------------

def test_load_through_nginx_has_no_error(pair):
    """2,000 requests over 20 keep-alive connections (20 households), half of them the home
    page and half a NIK check, within 60 s: every answer 200, no connection opened twice."""
    connections, per_connection, budget = 20, 100, 60.0
    niks = pair.covered + pair.family_covered + [p.nik for p in pair.uncovered[:20]]
    statuses: dict[int, int] = {}
    errors: list[str] = []
    latencies: list[float] = []
    reconnects = [0]
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + budget

    def client(index: int) -> None:
        conn = connect(pair.url, f"127.0.1.{index + 1}")
        sock = None
        for i in range(per_connection):
            if time.monotonic() > deadline:
                break
            t0 = time.monotonic()
            try:
                if i % 2:
                    response, _ = cek(conn, niks[(index + i) % len(niks)])
                else:
                    response, _ = request(conn, "GET", "/")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                continue
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append(time.monotonic() - t0)
                if sock is not None and conn.sock is not sock:
                    reconnects[0] += 1
            sock = conn.sock
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(budget + 30)
    elapsed = time.monotonic() - started
    done = sum(statuses.values())
    latencies.sort()
    if latencies:
        print(f"\nload through nginx: {done} requests over {connections} connections in "
              f"{elapsed:.1f} s ({done / elapsed:.0f}/s), median "
              f"{latencies[len(latencies) // 2] * 1000:.0f} ms, 99th percentile "
              f"{latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms; statuses {statuses}")
    assert not errors, errors[:5]
    assert not any(status >= 500 for status in statuses), statuses
    assert statuses == {200: connections * per_connection}, statuses
    assert reconnects[0] == 0
    assert elapsed < budget
