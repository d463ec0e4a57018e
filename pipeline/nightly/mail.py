"""E-mail for the morning summary: plain UTF-8 text over SMTP (implicit TLS on 465, STARTTLS
when offered), configured by PRESSMON_SMTP_* and PRESSMON_MAIL_* in the environment."""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


def smtp_settings_from_env(env: Mapping[str, str] | None = None) -> dict | None:
    """SMTP settings from PRESSMON_SMTP_* / PRESSMON_MAIL_*, or None when PRESSMON_SMTP_HOST
    or PRESSMON_MAIL_TO is unset (e-mail is then not configured)."""
    env = os.environ if env is None else env
    host, to = env.get("PRESSMON_SMTP_HOST"), env.get("PRESSMON_MAIL_TO")
    if not host or not to:
        return None
    return {"host": host, "port": int(env.get("PRESSMON_SMTP_PORT") or 25),
            "user": env.get("PRESSMON_SMTP_USER") or None, "password": env.get("PRESSMON_SMTP_PASSWORD") or None,
            "mail_from": env.get("PRESSMON_MAIL_FROM") or f"pressmon@{host}", "mail_to": to}


def send_summary(markdown: str, smtp: Mapping | None = None, subject: str | None = None,
                 timeout: float = 30.0) -> bool:
    """E-mail `markdown` (text/plain, UTF-8) with the given settings, or those of the
    environment when `smtp` is None. Returns False, sending nothing, when not configured.

    Settings: host, port (465 = implicit TLS; otherwise STARTTLS when the server offers it),
    user and password (login when given), mail_from, mail_to (comma-separated)."""
    settings = dict(smtp) if smtp is not None else smtp_settings_from_env()
    if not settings or not settings.get("host") or not settings.get("mail_to"):
        return False
    if subject is None:
        first = next((line for line in markdown.splitlines() if line.strip()), "")
        subject = "[pressmon] " + first.lstrip("# ").strip()
    recipients = [a.strip() for a in str(settings["mail_to"]).split(",") if a.strip()]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.get("mail_from") or f"pressmon@{settings['host']}"
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="pressmon")
    message.set_content(markdown, subtype="plain", charset="utf-8")
    port = int(settings.get("port") or 25)
    context = ssl.create_default_context()
    if port == 465:
        client = smtplib.SMTP_SSL(settings["host"], port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(settings["host"], port, timeout=timeout)
    with client:
        client.ehlo()
        if port != 465 and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if settings.get("user"):
            client.login(settings["user"], settings.get("password") or "")
        client.send_message(message, from_addr=message["From"], to_addrs=recipients)
    return True
