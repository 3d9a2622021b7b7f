"""No phone number, sign-in code, sign-in link or API key in the logs.

At the source: the twilio client logs each request's number and text at INFO (its logger
goes to WARNING), and SQLAlchemy's errors carry the bound values (hide_parameters in the
engine options, portal/__init__.py). As a safety net, a filter on the root logger's
handlers rewrites what slips through; on the loggers known to log such data in lines
worth keeping (werkzeug's and gunicorn's access lines, Flask-Limiter's "limit exceeded"
naming the key, i.e. the phone number) it rewrites them before they go anywhere.

The one exception is the `console` SMS backend, the laptop demo's way of showing the
code: its logger (portal.sms.console) is left as it is only while SMS_BACKEND is
`console`; with twilio, anything logged there is redacted like the rest.
"""

import logging
import re

from flask import Flask

from portal.core.secret_key import is_production

CONSOLE_SMS_LOGGER = "portal.sms.console"
SOURCE_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "flask-limiter")
QUIET_LOGGERS = ("twilio.http_client",)

# (pattern, replacement), applied in this order.
REDACTIONS = [
    # E.164 numbers, also URL-encoded (+ as %2B): +33612345678, +262692123456.
    (re.compile(r"(?:\+|%2B)[1-9]\d{7,14}\b", re.IGNORECASE), "+[phone]"),
    # Sign-in links, in URLs and access log lines.
    (re.compile(r"(/connexion/lien/)[^\s/?#\"']+"), r"\1[token]"),
    # Links for a counsellor to choose their password.
    (re.compile(r"(/compte/mot-de-passe/)[^\s/?#\"']+"), r"\1[token]"),
    # API keys, whole or after Bearer.
    (re.compile(r"\bspi_[A-Za-z0-9_-]+"), "spi_[key]"),
    (re.compile(r"(\bBearer\s+)[^\s\"',;]+", re.IGNORECASE), r"\1[key]"),
    # A six-digit code after the word "code" (French, English, query strings).
    (re.compile(r"(\bcodes?\b[^\d\n]{0,40})\d{6}\b", re.IGNORECASE), r"\1[code]"),
]


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and traceback) with `redact`; never drops a record."""

    def __init__(self, console_sms: bool = False) -> None:
        super().__init__()
        self.console_sms = console_sms

    def filter(self, record: logging.LogRecord) -> bool:
        if self.console_sms and record.name == CONSOLE_SMS_LOGGER:
            return True
        if getattr(record, "_portal_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it when formatting
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._portal_redacted = True
        return True


def init_app(app: Flask) -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    console_sms = app.config["SMS_BACKEND"] == "console"
    install(RedactingFilter(console_sms=console_sms))
    if console_sms and is_production(app.config):
        logging.getLogger(__name__).warning(
            "SMS_BACKEND=console writes every SMS (numbers, codes) to this log: "
            "for a laptop only; set SMS_BACKEND=twilio in production"
        )


def install(redacting: RedactingFilter) -> None:
    """On the root logger's handlers and SOURCE_LOGGERS, replacing an earlier one."""
    targets: list[logging.Filterer] = [*logging.getLogger().handlers]
    targets += [logging.getLogger(name) for name in SOURCE_LOGGERS]
    for target in targets:
        for old in [f for f in target.filters if isinstance(f, RedactingFilter)]:
            target.removeFilter(old)
        target.addFilter(redacting)
