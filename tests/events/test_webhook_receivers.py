"""Receivers that misbehave, and where a delivery connects: all on 127.0.0.1.

WEBHOOK_ALLOW_INSECURE is on (loopback allowed) and the deadline is 1 s. Receivers that
trickle or flood speak raw TCP, so that the test decides every byte and sees when the
worker hangs up.
"""

import socket
import ssl
import subprocess
import threading
import time

import pytest
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from portal.core.clock import utcnow
from portal.events import outbound, webhooks
from portal.events.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from portal.events.services import record_event
from portal.extensions import db
from tests.factories import make_beneficiary, make_organisation
from tests.fake_twilio import ServerThread

DEADLINE = 1.0
HUGE = 200 * 1024 * 1024


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_INSECURE": True, "WEBHOOK_TIMEOUT_SECONDS": DEADLINE}


class RawReceiver:
    """Accepts one connection on 127.0.0.1, reads the request, then lets `answer` write
    the reply; records how many bytes it sent and how the exchange ended."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.request = b""
        self.sent = 0
        self.outcome: str | None = None
        self.ended = threading.Event()
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def send(self, connection: socket.socket, data: bytes) -> None:
        connection.sendall(data)
        self.sent += len(data)

    def _serve(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except OSError:  # closed by the test
            return
        with connection:
            # Small buffers on this side: what is sent is close to what the worker read.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
            connection.settimeout(10)  # a worker that neither reads nor hangs up: stalled
            try:
                while b"\r\n\r\n" not in self.request:
                    self.request += connection.recv(65536)
                self.answer(self, connection)
                self.outcome = "answered in full"
            except (BrokenPipeError, ConnectionResetError):
                self.outcome = "hung up on by the worker"
            except TimeoutError:
                self.outcome = "stalled"
            finally:
                self.ended.set()

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self._thread.join(15)


@pytest.fixture
def raw_receiver():
    receivers = []

    def start(answer):
        receivers.append(RawReceiver(answer))
        return receivers[-1]

    yield start
    for receiver in receivers:
        receiver.close()


def _one_event_for(url: str):
    organisation = make_organisation()
    webhooks.register(organisation, url, "s" * 32)
    record_event("appointment.requested", make_beneficiary(organisation))
    db.session.commit()


def _the_attempt() -> tuple[WebhookDelivery, WebhookAttempt]:
    db.session.expire_all()
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    return delivery, attempt


def _trickle(data: bytes):
    def answer(receiver, connection):
        for byte in data:
            if receiver.stopping.is_set():
                return
            receiver.send(connection, bytes([byte]))
            time.sleep(0.3)

    return answer


def _status_then_trickle(receiver, connection):
    receiver.send(connection, b"HTTP/1.1 503 Busy\r\nContent-Length: 40\r\n\r\n")
    _trickle(b"x" * 40)(receiver, connection)


@pytest.mark.parametrize(
    "answer",
    [
        _trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        _status_then_trickle,
    ],
    ids=["headers", "body"],
)
def test_a_receiver_trickling_its_answer_is_cut_at_the_deadline(app, raw_receiver, answer):
    """One byte every 0.3 s never lets a per-read timeout expire: the deadline is for
    the whole attempt, which is recorded as failed and retried later."""
    receiver = raw_receiver(answer)
    _one_event_for(receiver.url)

    started = time.monotonic()
    assert webhooks.deliver_due() == 1
    elapsed = time.monotonic() - started

    assert elapsed < 2 * DEADLINE, f"the attempt lasted {elapsed:.2f} s"
    delivery, attempt = _the_attempt()
    assert attempt.duration_ms < 2000 * DEADLINE
    if attempt.status_code is None:
        assert attempt.error == "timed out after 1 s"
    else:
        assert attempt.status_code == 503  # the status came in time, the body did not
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at > utcnow()
    assert receiver.ended.wait(5)
    assert receiver.outcome == "hung up on by the worker"
    print(f"\ntrickling receiver: attempt {attempt.duration_ms} ms, {receiver.sent} bytes sent")


@pytest.mark.parametrize("status", [200, 500])
def test_a_huge_answer_is_not_read(app, raw_receiver, status):
    """200 MB offered: the worker reads the headers and, for a refusal, 1 KB of the body,
    then hangs up; the receiver can send no more than the sockets' buffers hold."""

    def flood(receiver, connection):
        head = f"HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {HUGE}\r\n\r\n"
        receiver.send(connection, head.encode())
        chunk = b"x" * 65536
        while receiver.sent < HUGE and not receiver.stopping.is_set():
            receiver.send(connection, chunk)

    receiver = raw_receiver(flood)
    _one_event_for(receiver.url)
    assert webhooks.deliver_due() == 1

    assert receiver.ended.wait(5)
    assert receiver.outcome == "hung up on by the worker"
    assert receiver.sent < HUGE / 20, f"{receiver.sent} bytes sent"
    delivery, attempt = _the_attempt()
    assert attempt.status_code == status
    if status == 200:
        assert delivery.status is DeliveryStatus.DELIVERED
        assert attempt.error is None
    else:
        assert attempt.error == "x" * outbound.EXCERPT_BYTES
    print(f"\nHTTP {status}: the receiver got {receiver.sent} bytes out of {HUGE} offered")


def test_an_answer_with_too_many_header_bytes_fails(app, raw_receiver):
    """http.client alone takes 100 header lines of 64 KiB each; the worker stops at 64 KiB
    in all."""

    def fat(receiver, connection):
        receiver.send(connection, b"HTTP/1.1 200 OK\r\n")
        for n in range(40):
            receiver.send(connection, f"X-Padding-{n}: ".encode() + b"a" * 60_000 + b"\r\n")
        receiver.send(connection, b"Content-Length: 2\r\n\r\nok")

    receiver = raw_receiver(fat)
    _one_event_for(receiver.url)
    assert webhooks.deliver_due() == 1
    delivery, attempt = _the_attempt()
    assert attempt.status_code is None
    assert attempt.error == "AnswerTooLarge: the answer passes 64 KiB"
    assert delivery.status is DeliveryStatus.PENDING


class HostRecorder:
    def __init__(self) -> None:
        self.hosts: list[str] = []

    def __call__(self, environ, start_response):
        self.hosts.append(Request(environ).headers["Host"])
        return Response("ok")(environ, start_response)


def test_a_delivery_connects_to_the_address_resolved_once(app, dns):
    """The name is resolved once, at delivery; the POST goes to that address with the
    name in the Host header. Asked again, the name no longer resolves: a client that
    resolved it a second time (as requests did after the check) could not deliver."""
    recorder = HostRecorder()
    with ServerThread(recorder) as server:
        port = server.server.server_port
        dns["hooks.rebind.test"] = ["127.0.0.1"]
        dns.answer_once.add("hooks.rebind.test")
        _one_event_for(f"http://hooks.rebind.test:{port}/hook")
        assert webhooks.deliver_due() == 1

    delivery, attempt = _the_attempt()
    assert (attempt.status_code, attempt.error) == (200, None)
    assert dns.lookups == ["hooks.rebind.test"]
    assert recorder.hosts == [f"hooks.rebind.test:{port}"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for hooks.receiver.test, made by the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        + ["-nodes", "-days", "2", "-subj", "/CN=hooks.receiver.test"]
        + ["-addext", "subjectAltName=DNS:hooks.receiver.test"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.fixture
def tls_receiver(certificate, monkeypatch):
    """A receiver on 127.0.0.1 over TLS; the worker trusts its certificate and nothing
    else. Yields (recorder, port, names the worker asked for in SNI)."""
    key, cert = certificate
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _context: names.append(name)
    monkeypatch.setattr(outbound, "_tls_context", lambda: ssl.create_default_context(cafile=cert))
    recorder = HostRecorder()
    with ServerThread(recorder, ssl_context=server_context) as server:
        yield recorder, server.server.server_port, names


def test_tls_to_the_pinned_address_checks_the_certificate_for_the_name(app, dns, tls_receiver):
    recorder, port, names = tls_receiver
    dns["hooks.receiver.test"] = ["127.0.0.1"]
    _one_event_for(f"https://hooks.receiver.test:{port}/hook")
    assert webhooks.deliver_due() == 1
    delivery, attempt = _the_attempt()
    assert (attempt.status_code, attempt.error) == (200, None)
    assert names == ["hooks.receiver.test"]
    assert recorder.hosts == [f"hooks.receiver.test:{port}"]


def test_tls_refuses_a_certificate_for_another_name(app, dns, tls_receiver):
    recorder, port, names = tls_receiver
    dns["hooks.impostor.test"] = ["127.0.0.1"]
    _one_event_for(f"https://hooks.impostor.test:{port}/hook")
    assert webhooks.deliver_due() == 1
    delivery, attempt = _the_attempt()
    assert attempt.status_code is None
    assert "certificate verify failed" in attempt.error
    assert "hooks.impostor.test" in attempt.error
    assert names == ["hooks.impostor.test"]
    assert recorder.hosts == []
    assert delivery.status is DeliveryStatus.PENDING
