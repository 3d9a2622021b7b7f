"""What the public pages say, read from the configuration so that each deployment states
its own publisher, contacts and retention periods."""

from dataclasses import dataclass

from flask import current_app

from portal.core.phones import InvalidPhone, normalise_phone


@dataclass(frozen=True)
class HelpLine:
    name: str
    phone: str  # E.164: the tel: link, and shown by the phone_display filter


def help_lines() -> list[HelpLine]:
    """The organisations' public numbers, from HELP_PHONES ("Name=03 88 76 67 67;…");
    an entry whose number is not a number is left out rather than shown broken."""
    lines = []
    for entry in current_app.config["HELP_PHONES"].split(";"):
        name, _, number = entry.partition("=")
        if not name.strip() or not number.strip():
            continue
        try:
            phone = normalise_phone(number)
        except InvalidPhone:
            continue
        lines.append(HelpLine(name.strip(), phone))
    return lines


@dataclass(frozen=True)
class Retention:
    """How long each kind of data is kept: the same settings the purge applies."""

    sign_in_code_hours: int
    sms_body_days: int
    webhook_attempt_days: int
    event_data_months: int
    audit_months: int
    dormant_person_months: int


def retention() -> Retention:
    config = current_app.config
    return Retention(
        sign_in_code_hours=config["RETENTION_SIGN_IN_CODE_HOURS"],
        sms_body_days=config["RETENTION_SMS_BODY_DAYS"],
        webhook_attempt_days=config["RETENTION_WEBHOOK_ATTEMPT_DAYS"],
        event_data_months=config["RETENTION_EVENT_DATA_MONTHS"],
        audit_months=config["RETENTION_AUDIT_MONTHS"],
        dormant_person_months=config["DORMANT_PERSON_MONTHS"],
    )
