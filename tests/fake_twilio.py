"""A Twilio-compatible server on 127.0.0.1 for the real `twilio` client to talk to.

It answers `POST /2010-04-01/Accounts/<sid>/Messages.json` as Twilio does (201 and a
message resource), keeps what it received, and can be told to fail.
"""

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

# GSM 03.38: the basic set costs one septet a character, the extension set two.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "^{}\\[~]|€\f"


def count_segments(body: str) -> int:
    """As the carrier counts: 160/153 septets in GSM-7, 70/67 UTF-16 units otherwise."""
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in body):
        length = sum(2 if c in GSM_EXTENSION else 1 for c in body)
        single, multi = 160, 153
    else:
        length = len(body.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if length <= single else -(-length // multi)


@dataclass
class ReceivedMessage:
    sid: str
    account_sid: str
    to: str
    body: str
    sender: str | None
    messaging_service_sid: str | None
    status_callback: str | None


@dataclass
class FakeTwilio:
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "fake-auth-token"
    messages: list[ReceivedMessage] = field(default_factory=list)
    # Each entry is consumed by one request: (http status, twilio error code).
    failures: list[tuple[int, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.failures.clear()

    def fail_next(self, times: int, status: int = 503, code: int = 20500) -> None:
        with self._lock:
            self.failures.extend([(status, code)] * times)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self._lock:
            return list(self.messages)

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self._answer(request)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if request.method == "GET" and len(parts) == 4 and parts[3] == "Messages.json":
            return self._list(request, parts[2])
        if (
            request.method != "POST"
            or len(parts) != 4
            or parts[:2] != ["2010-04-01", "Accounts"]
            or parts[3] != "Messages.json"
        ):
            return self._error(404, 20404, "The requested resource was not found")
        auth = request.headers.get("Authorization", "")
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if auth != expected or parts[2] != self.account_sid:
            return self._error(401, 20003, "Authenticate")
        form = request.form
        if not form.get("To") or not form.get("Body"):
            return self._error(400, 21604, "A 'To' phone number and a 'Body' are required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return self._error(400, 21603, "A 'From' phone number is required.")
        with self._lock:
            if self.failures:
                status, code = self.failures.pop(0)
                return self._error(status, code, "Simulated failure")
            sid = f"SM{next(self._ids):032x}"
            self.messages.append(
                ReceivedMessage(
                    sid=sid,
                    account_sid=parts[2],
                    to=form["To"],
                    body=form["Body"],
                    sender=form.get("From"),
                    messaging_service_sid=form.get("MessagingServiceSid"),
                    status_callback=form.get("StatusCallback"),
                )
            )
        body = form["Body"]
        resource = {
            "sid": sid,
            "account_sid": parts[2],
            "to": form["To"],
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": body,
            "status": "queued",
            "num_segments": str(count_segments(body)),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{parts[2]}/Messages/{sid}.json",
        }
        return Response(json.dumps(resource), status=201, content_type="application/json")

    def _list(self, request: Request, account_sid: str) -> Response:
        """GET Messages.json?To=…: what was sent to that number (DateSent> is ignored)."""
        to = request.args.get("To")
        with self._lock:
            found = [m for m in self.messages if to is None or m.to == to]
        resources = [
            {
                "sid": m.sid,
                "account_sid": account_sid,
                "to": m.to,
                "from": m.sender,
                "body": m.body,
                "status": "sent",
                "num_segments": str(count_segments(m.body)),
                "direction": "outbound-api",
            }
            for m in reversed(found)
        ]
        page = {
            "messages": resources,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": max(0, len(resources) - 1),
            "first_page_uri": request.full_path,
            "next_page_uri": None,
            "previous_page_uri": None,
            "uri": request.full_path,
        }
        return Response(json.dumps(page), status=200, content_type="application/json")

    @staticmethod
    def _error(status: int, code: int, message: str) -> Response:
        payload = {"code": code, "message": message, "status": status, "more_info": ""}
        return Response(json.dumps(payload), status=status, content_type="application/json")


class ServerThread:
    """Serves a WSGI app on 127.0.0.1 on a free port, in a thread (over TLS if given an
    `ssl.SSLContext`)."""

    def __init__(self, app, ssl_context=None) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
