"""Rate-limit counters are shared by every worker (a local SQLite file) and by every host (Redis):
a client's allowance is the same wherever its requests land. Each worker or host opens its own
connection to the storage; two connections stand for two of them here."""
from __future__ import annotations

import os
import threading
import uuid

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from web import ratelimit  # noqa: F401  (the sqlite:// storage)


def _alternate(uri: str, hits: int = 5) -> list[bool]:
    workers = [FixedWindowRateLimiter(storage_from_string(uri)) for _ in range(2)]
    item, key = parse("3 per hour"), f"RATELIMIT_CAKUPAN/ip:10.40.0.{uuid.uuid4().int % 250}"
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
