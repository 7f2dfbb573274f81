"""Rate-limit counters are shared by every worker (a local SQLite file) and by every host (Redis):
a client's allowance is the same wherever its requests land. Each worker or host opens its own
connection to the storage; two connections stand for two of them here."""
from __future__ import annotations

import os
import threading
import time
import uuid

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from web import ratelimit  # noqa: F401  (the sqlite:// storage)


def _client() -> str:
    """A client no other run has used: Redis keeps its counters between test runs, for an hour."""
    return f"ip:test-{uuid.uuid4().hex}"


def _alternate(uri: str, hits: int = 5) -> list[bool]:
    workers = [FixedWindowRateLimiter(storage_from_string(uri)) for _ in range(2)]
    item, key = parse("3 per hour"), f"RATELIMIT_CAKUPAN/{_client()}"
    return [workers[n % 2].hit(item, key) for n in range(hits)]


def _parallel(uri: str) -> int:
    """40 hits at once from 8 threads, each with its own connection: how many got through."""
    item, key = parse("10 per hour"), f"RATELIMIT_MASUK_AKUN/{uuid.uuid4().hex}"
    allowed = []
    barrier = threading.Barrier(8)

    def worker():
        limiter = FixedWindowRateLimiter(storage_from_string(uri))
        barrier.wait(10)
        allowed.extend(limiter.hit(item, key) for _ in range(5))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sum(allowed)


def test_workers_on_one_machine_share_the_sqlite_counters(tmp_path):
    uri = f"sqlite:///{tmp_path / 'limits.db'}"
    assert _alternate(uri) == [True, True, True, False, False]
    assert _parallel(uri) == 10  # counted atomically: exactly the limit gets through


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests skipped: set TEST_REDIS_URL, e.g. "
                    "TEST_REDIS_URL=redis://127.0.0.1:6379/15")
    return url


def test_hosts_share_the_redis_counters(redis_url):
    assert _alternate(redis_url) == [True, True, True, False, False]
    assert _parallel(redis_url) == 10


# --- the worker's tally: check answers counted in the worker, written together ---------------

def _workers(uri: str, allowance: str, count: int = 2):
    """`count` workers' RateLimits on the same storage, as gunicorn's workers have them."""
    from flask import Flask

    from web.limits import RateLimits

    workers = []
    for _ in range(count):
        app = Flask(__name__)
        app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=uri,
                          RATELIMIT_CAKUPAN=allowance)
        limits = RateLimits()
        limits.init_app(app)
        workers.append((app, limits))
    return workers


def _hit(worker, client: str) -> bool:
    from web.limits import CAKUPAN, Limited

    app, limits = worker
    with app.app_context():
        try:
            limits.hit(CAKUPAN, client=client)
        except Limited:
            return False
    return True


@pytest.fixture(params=["sqlite", "redis"])
def shared_uri(request, tmp_path):
    if request.param == "redis":
        return request.getfixturevalue("redis_url")
    return f"sqlite:///{tmp_path / 'limits.db'}"


def test_a_client_bursting_across_workers_is_stopped_near_its_allowance(shared_uri):
    """Checks are tallied in each worker, but a client nearing its allowance is counted
    exactly: two workers let through at most a quarter of the allowance each beyond it."""
    workers = _workers(shared_uri, "40 per minute")
    client = _client()
    answers = [_hit(workers[n % 2], client) for n in range(80)]
    allowed = sum(answers)
    assert 40 <= allowed <= 40 + 2 * 10
    assert not any(answers[-20:]), "still answering a client far past its allowance"
    # Another client of the same workers is not touched by it.
    assert _hit(workers[0], _client())


def test_tallied_hits_reach_the_shared_counters(shared_uri):
    """A few checks per client stay in the worker for at most FLUSH_SECONDS; none is lost: the
    other worker sees them all once they are written."""
    from limits import parse

    from web.limits import FLUSH_SECONDS

    first, second = _workers(shared_uri, "1000 per minute")
    clients = [_client() for _ in range(5)]
    for client in clients:
        for _ in range(7):
            assert _hit(first, client)
    time.sleep(FLUSH_SECONDS * 1.5)
    assert _hit(first, _client())  # the next request writes what was tallied
    item = parse("1000 per minute")
    for client in clients:
        used = second[1].strategy.get_window_stats(item, "RATELIMIT_CAKUPAN", client)
        assert 1000 - used.remaining == 7, client
