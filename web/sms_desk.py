"""The SMS channel's ties to the app: its settings, the web's rate limits, the NIK HMAC.

sms/ needs no Flask; the worker command (cli.py) and the admin page build what it needs here.
A sending number is a client of the same limiter as a web client (`sms:<HMAC of the number>`),
with the web's coverage allowance (RATELIMIT_CAKUPAN) for answers about a NIK, and a ceiling
on replies (RATELIMIT_SMS) so one number cannot fill the modem's queue for everyone else.
"""
from __future__ import annotations

from flask import current_app

import models
from extensions import limiter
from sms import answers
from sms.channel import Channel, ChannelError
from sms.gammu import open_channel
from web.limits import CAKUPAN, Allowance, Limited
from web.security import nik_hmac

BALASAN = Allowance("sms", "RATELIMIT_SMS")


class SmsLimits:
    """answers.Limits over the app's limiter: `Limited` becomes the domain's OverLimit."""

    def __init__(self, rate_limits=limiter):
        self.rate_limits = rate_limits

    def _hit(self, allowance: Allowance, client: str) -> None:
        try:
            self.rate_limits.hit(allowance, client=f"sms:{client}")
        except Limited as exc:
            raise answers.OverLimit(exc.retry_after) from None

    def reply(self, client: str) -> None:
        self._hit(BALASAN, client)

    def coverage(self, client: str) -> None:
        self._hit(CAKUPAN, client)


def pseudonym(number: str) -> str:
    """The HMAC that stands for a phone number in counters and in the log."""
    return nik_hmac(f"tel:{number}")


def enabled() -> bool:
    return bool(current_app.config.get("SMS_URL"))


def channel() -> Channel:
    """The channel SMS_URL names; ChannelError when it is not set or cannot be used."""
    config = current_app.config
    if not enabled():
        raise ChannelError("SMS belum diaktifkan: atur SMS_URL, misalnya gammu-pgsql:// atau "
                           "gammu-files:///var/spool/cekbansos-sms (lihat README).")
    return open_channel(config["SMS_URL"], models.db, schema_path=config["SMS_GAMMU_SCHEMA"])


def desk() -> answers.Desk:
    return answers.Desk(limits=SmsLimits(), pseudonym=pseudonym,
                        office_phone=current_app.config.get("SMS_OFFICE_PHONE") or "")
