"""Where an SMS leaves the portal: the log (laptop) or Twilio's REST API."""

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from flask import Flask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    to: str
    body: str
    message_id: int
    status_callback: str | None = None


@dataclass(frozen=True)
class Accepted:
    provider_id: str
    segments: int | None
    status: str = "sent"


class SmsError(Exception):
    """The provider refused or could not be reached; `permanent` says if a retry can help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ConsoleBackend:
    """Prints messages to the log: the laptop default, where the demo's codes are read."""

    def __init__(self, app: Flask) -> None:
        self.logger = logging.getLogger("portal.sms.console")

    def send(self, message: Outgoing) -> Accepted:
        self.logger.warning("SMS to %s: %s", message.to, message.body)
        return Accepted(provider_id=f"console-{message.message_id}", segments=None)

    def find_sent(self, message: Outgoing, since) -> Accepted | None:
        return None  # nothing was sent anywhere: printing again is harmless


# Twilio's error codes after which another try cannot succeed (invalid or
# unreachable number, person unsubscribed, number blocked, not a mobile).
_PERMANENT_TWILIO_CODES = {21211, 21214, 21408, 21610, 21612, 21614, 30003, 30004, 30005, 30006}


class TwilioBackend:
    """The official client; TWILIO_API_BASE points it at a compatible server (tests, a proxy)."""

    def __init__(self, app: Flask) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        config = app.config
        self.from_number = config["TWILIO_FROM"] or None
        self.messaging_service_sid = config["TWILIO_MESSAGING_SERVICE_SID"] or None
        base = config["TWILIO_API_BASE"]

        class RebasedHttpClient(TwilioHttpClient):
            # Rewrites scheme and host of every request: `edge`/`region` cannot reach a fake.
            def request(self, method, url, *args, **kwargs):
                if base:
                    target = urlsplit(base)
                    parts = urlsplit(url)
                    url = urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
                return super().request(method, url, *args, **kwargs)

        self.client = Client(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            http_client=RebasedHttpClient(timeout=10),
        )

    def send(self, message: Outgoing) -> Accepted:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs = {"to": message.to, "body": message.body}
        if message.status_callback and message.status_callback.startswith("https://"):
            kwargs["status_callback"] = message.status_callback
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        try:
            created = self.client.messages.create(**kwargs)
        except TwilioRestException as error:
            permanent = error.code in _PERMANENT_TWILIO_CODES or (
                400 <= error.status < 500 and error.status != 429
            )
            raise SmsError(f"Twilio {error.status} {error.code}: {error.msg}", permanent) from error
        except (TwilioException, OSError) as error:
            raise SmsError(f"Twilio unreachable: {error}") from error
        segments = int(created.num_segments) if created.num_segments else None
        return Accepted(provider_id=created.sid, segments=segments, status=created.status or "sent")

    def find_sent(self, message: Outgoing, since) -> Accepted | None:
        """The message if Twilio already has it (same number, same text, since `since`)."""
        from twilio.base.exceptions import TwilioException

        try:
            found = self.client.messages.list(to=message.to, date_sent_after=since, limit=50)
        except (TwilioException, OSError) as error:
            raise SmsError(f"Twilio unreachable: {error}") from error
        for sent in found:
            if sent.body == message.body:
                segments = int(sent.num_segments) if sent.num_segments else None
                return Accepted(provider_id=sent.sid, segments=segments, status=sent.status)
        return None


BACKENDS = {"console": ConsoleBackend, "twilio": TwilioBackend}


def make_backend(app: Flask):
    name = app.config["SMS_BACKEND"]
    if name not in BACKENDS:
        raise RuntimeError(f"SMS_BACKEND must be one of {sorted(BACKENDS)}, not {name!r}")
    return BACKENDS[name](app)
