"""Distribution points at once, on each backend: one hand-over per family and stage, always.

Each worker is a separate process (like a gunicorn worker, or another distribution point's
server) with its own connection; they start together on a barrier so the writes overlap.
"""
from __future__ import annotations

import multiprocessing

import pytest

import models
from rice import distribution as rice
from rice.models import Handover
from tests.test_rice import make_families, make_programme, passed_batch

WORKERS = 8


def _in_app(url, barrier, results, index, job, args):
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "t",
                      "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context(), models.db.connection_context():
        barrier.wait(30)
        try:
            results.put((index, "ok", job(*args)))
        except rice.AlreadyHandedOver as exc:
            results.put((index, "refused", exc.handover.id))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results.put((index, "crash", repr(exc)))


def _hand_over(programme_id, no_kk, batch_id, titik):
    programme = rice.Programme.get_by_id(programme_id)
    return rice.hand_over(programme, 1, no_kk, batch_id, titik=titik).id


def _import(programme_id, text):
    from imports.recipients import read_text
    from rice.handovers import import_handovers

    programme = rice.Programme.get_by_id(programme_id)
    result = import_handovers(programme, read_text(text), skip_invalid=True)
    return result.added


def _race(url, jobs):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [ctx.Process(target=_in_app, args=(url, barrier, results, i, job, args))
             for i, (job, args) in enumerate(jobs)]
    for p in procs:
        p.start()
    outcomes = dict((i, (status, value)) for i, status, value in
                    (results.get(timeout=120) for _ in procs))
    for p in procs:
        p.join(30)
    assert not [o for o in outcomes.values() if o[0] == "crash"], outcomes
    return [outcomes[i] for i in range(len(jobs))]  # in the order of the jobs


@pytest.fixture
def url(app, database_url):
    yield database_url
    models.db.connect(reuse_if_open=True)


def _setup(families):
    cards = make_families(families)
    programme = make_programme()
    batch = passed_batch(programme, 1)
    models.db.close()  # the workers open their own connections; SQLite must not be held
    return programme.id, batch.id, cards


def test_eight_points_hand_over_one_family_at_once(url):
    programme_id, batch_id, cards = _setup(1)
    outcomes = _race(url, [(_hand_over, (programme_id, cards[0], batch_id, f"Titik {i}"))
                           for i in range(WORKERS)])
    assert sorted(o[0] for o in outcomes) == ["ok"] + ["refused"] * (WORKERS - 1)
    winner = next(o[1] for o in outcomes if o[0] == "ok")
    assert all(o[1] == winner for o in outcomes)  # every refusal names the one hand-over
    with models.db.connection_context():
        assert Handover.select().count() == 1


def test_two_points_per_family_for_four_families(url):
    programme_id, batch_id, cards = _setup(4)
    jobs = [(_hand_over, (programme_id, cards[i % 4], batch_id, f"Titik {i}"))
            for i in range(WORKERS)]
    outcomes = _race(url, jobs)
    assert sorted(o[0] for o in outcomes) == ["ok"] * 4 + ["refused"] * 4
    with models.db.connection_context():
        assert sorted(h.no_kk for h in Handover.select()) == sorted(cards)


def test_an_import_and_counters_at_once_never_give_twice(url):
    programme_id, batch_id, cards = _setup(20)
    with models.db.connection_context():
        kode = rice.Batch.get_by_id(batch_id).kode
    text = "no_kk,tahap,tanggal,batch\n" + "".join(
        f"{kk},1,{models.today():%d-%m-%Y},{kode}\n" for kk in cards)
    jobs = [(_import, (programme_id, text))] + [
        (_hand_over, (programme_id, cards[i], batch_id, "Loket")) for i in range(WORKERS - 1)]
    outcomes = _race(url, jobs)
    with models.db.connection_context():
        rows = list(Handover.select(Handover.no_kk, Handover.sumber).tuples())
    assert len(rows) == len({kk for kk, _ in rows})  # never two for one family
    counter_ok = sum(1 for o in outcomes[1:] if o[0] == "ok")
    assert sum(1 for _, source in rows if source == "loket") == counter_ok
    imported = outcomes[0][1]
    assert imported in (0, 20 - counter_ok) and len(rows) == counter_ok + imported
