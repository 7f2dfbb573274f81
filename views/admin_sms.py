"""The SMS channel's health for the admins: is it answering, what waits, what failed."""
from __future__ import annotations

from flask import render_template

from sms import models as sms_log
from sms import numbers
from sms.channel import ChannelError
from web import sms_desk
from web.gates import admin_blueprint

bp = admin_blueprint("admin_sms", __name__)


@bp.get("/sms")
def health():
    """Last message received and sent, the queue, failures, and messages not answered as asked
    (their text with every long number masked, the sender masked)."""
    gammu, problem, channel_name = None, None, None
    if sms_desk.enabled():
        try:
            channel = sms_desk.channel()
            channel_name = channel.name
            gammu = channel.health()
            problem = gammu.get("problem")
        except ChannelError as exc:
            problem = str(exc)
    return render_template(
        "admin/sms.html", enabled=sms_desk.enabled(), channel=channel_name, gammu=gammu,
        problem=problem, log=sms_log.figures(), unanswered=list(sms_log.unanswered()),
        failed=list(sms_log.failed()), OUTCOMES=sms_log.OUTCOMES, KINDS=sms_log.KINDS,
        masked=numbers.masked)
