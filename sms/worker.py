"""The SMS worker (`flask sms-worker`): answer what came in, hand over what goes out, and follow
up what gammu-smsd did with it. Run as a service beside gammu-smsd; several may run at once.

Each round is three short transactions:
1. receive: claim received messages, answer each, log it with its reply queued, and mark it
   processed, all in one transaction; a message already in the log is only cleared away. A
   worker killed half-way rolls back, and the next round answers the message once.
2. hand over: the oldest queued messages (replies and case updates alike) go to gammu-smsd,
   claimed with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite takes its write lock up front).
3. follow up: messages handed over that gammu has finished with are marked sent or failed.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from peewee import IntegrityError, InterfaceError, OperationalError

from database import db
from formats import utcnow
from sms import answers, numbers
from sms.channel import Channel, ChannelError, Incoming
from sms.models import InboundMessage, OutboundMessage, mask_digits, queue

log = logging.getLogger("cekbansos.sms")
BATCH = 50


class Round(NamedTuple):
    received: int
    handed: int
    finished: int


def receive(channel: Channel, desk: answers.Desk, limit: int = BATCH) -> int:
    """Answer up to `limit` received messages; returns how many were claimed."""
    with db.atomic():
        messages = channel.claim(limit)
        if not messages:
            return 0
        keys = [m.key for m in messages]
        known = {key for (key,) in InboundMessage.select(InboundMessage.kunci)
                 .where(InboundMessage.kunci.in_(keys)).tuples()}
        for message in messages:
            if message.key not in known:
                _answer(message, desk)
        channel.mark_processed(messages)
    channel.after_commit(messages)
    return len(messages)


def _answer(message: Incoming, desk: answers.Desk) -> None:
    try:
        with db.atomic():  # a savepoint: one message's failure leaves the others standing
            reply = answers.answer(desk, message.sender, message.text)
            _log(message, desk, reply.command, reply.outcome, reply.parts)
    except IntegrityError:
        return  # another worker logged (and answered) this very message a moment ago
    except (OperationalError, InterfaceError):
        raise  # the database is gone: the whole round rolls back and is tried again
    except Exception as exc:  # noqa: BLE001 - one bad message must not stop the channel
        log.error("SMS %s tidak dapat dijawab: %s: %s", message.key, type(exc).__name__,
                  mask_digits(str(exc)))
        with db.atomic():
            _log(message, desk, "", "galat", [])


def _log(message: Incoming, desk: answers.Desk, command: str, outcome: str,
         parts: list[str]) -> None:
    sender = numbers.normalise(message.sender) or message.sender
    row = InboundMessage.create(
        kunci=message.key, pengirim=desk.pseudonym(sender),
        pengirim_samaran=numbers.masked(message.sender)[:24],
        teks=mask_digits(" ".join((message.text or "").split()))[:200], perintah=command,
        hasil=outcome, diterima_at=message.received_at, diproses_at=utcnow())
    if parts:
        queue(sender, parts, "balasan", inbound_id=row.id)


def hand_over(channel: Channel, limit: int = BATCH) -> int:
    """Give the oldest queued messages to gammu-smsd; returns how many."""
    with db.atomic():
        query = (OutboundMessage.select().where(OutboundMessage.status == "antri")
                 .order_by(OutboundMessage.id).limit(limit))
        if getattr(db.obj, "for_update", False):
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        rows = list(query)
        if not rows:
            return 0
        blank = [row for row in rows if not row.nomor]  # its case was anonymised meanwhile
        sendable = [row for row in rows if row.nomor]
        refs = channel.hand_over(sendable) if sendable else []
        now = utcnow()
        for row, ref in zip(sendable, refs, strict=True):
            (OutboundMessage.update(status="diserahkan", ref=ref, diserahkan_at=now)
             .where(OutboundMessage.id == row.id).execute())
        if blank:
            (OutboundMessage.update(status="gagal", status_gammu="tanpa-nomor", selesai_at=now)
             .where(OutboundMessage.id.in_([row.id for row in blank])).execute())
    return len(rows)


def follow_up(channel: Channel, limit: int = 500) -> int:
    """Mark sent or failed what gammu has finished with; returns how many."""
    rows = list(OutboundMessage.select(OutboundMessage.id, OutboundMessage.ref)
                .where(OutboundMessage.status == "diserahkan")
                .order_by(OutboundMessage.id).limit(limit).tuples())
    if not rows:
        return 0
    outcomes = channel.outcomes([ref for _, ref in rows])
    if not outcomes:
        return 0
    finished = 0
    with db.atomic():
        for pk, ref in rows:
            outcome = outcomes.get(ref)
            if outcome is None:
                continue
            finished += (OutboundMessage.update(
                status="terkirim" if outcome.sent else "gagal",
                status_gammu=outcome.gammu_status[:20], selesai_at=outcome.at or utcnow())
                .where(OutboundMessage.id == pk, OutboundMessage.status == "diserahkan")
                .execute())
    return finished


def one_round(channel: Channel, desk: answers.Desk, limit: int = BATCH) -> Round:
    return Round(receive(channel, desk, limit), hand_over(channel, limit),
                 follow_up(channel))


def run(channel: Channel, desk: answers.Desk, *, limit: int = BATCH, idle: float = 1.0,
        stop: Callable[[], bool] = lambda: False) -> None:
    """Rounds until `stop()`; a pause when there was nothing to do, a longer one (and a new
    connection) when the database or gammu's store went away."""
    while not stop():
        try:
            done = one_round(channel, desk, limit)
        except (OperationalError, InterfaceError) as exc:
            log.error("Basis data tidak terjangkau (%s); dicoba lagi.", type(exc).__name__)
            if not db.is_closed():
                db.close()
            time.sleep(5 * idle)
            continue
        except ChannelError as exc:  # gammu's folders or tables went missing: say so, wait
            log.error("Saluran SMS tidak dapat dipakai: %s", exc)
            time.sleep(5 * idle)
            continue
        if not (done.received or done.handed):
            time.sleep(idle)
