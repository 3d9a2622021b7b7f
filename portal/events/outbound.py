"""One POST to an organisation's receiver: on the internet, within a deadline, read little.

Request forgery: the URL's name is resolved once; every address it resolves to must be
public, an IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64, 6to4) being judged
by that IPv4 address; then the connection goes to one of those very addresses, with the
name in the Host header and in TLS (SNI and the certificate's check). Nothing resolves
the name again, so a DNS answer that changes in between (rebinding) cannot point the
POST at the portal's own network.

A slow or hostile receiver: one deadline covers the whole attempt (connecting, the TLS
handshake, sending, the answer's headers, the excerpt of its body). A socket timeout
alone applies to each read, and a receiver sending a byte every few seconds would hold
the attempt for as long as it likes. At most 64 KiB of the answer is ever read, headers
included, then the connection is closed.
"""

import functools
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import requests.certs
import requests.utils

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# What is read of an answer, headers included; past it the attempt fails.
ANSWER_CAP = 64 * 1024
# What is kept of the body of an answer that is not a 2xx (a 2xx's body is not read).
EXCERPT_BYTES = 1024


class WebhookUrlError(ValueError):
    pass


class AnswerTooLarge(http.client.HTTPException):
    pass


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Never a receiver's address, whatever this Python's tables say: local-use NAT64 (its
# embedding depends on the local prefix), IPv4-compatible (deprecated), Teredo (an IPv4
# address behind a relay) and the rest of the IETF protocol assignments (some of which
# Python calls global, as 192.0.0.9), documentation (3fff::/20, newer than Python 3.11's
# tables), SRv6 segment identifiers, site-local, the deprecated 6to4 relay anycast.
_NEVER = tuple(
    ipaddress.ip_network(network)
    for network in (
        "64:ff9b:1::/48",
        "::/96",
        "2001::/32",
        "2001::/23",
        "192.0.0.0/24",
        "3fff::/20",
        "5f00::/16",
        "fec0::/10",
        "192.88.99.0/24",
    )
)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: IPv4-mapped, NAT64 64:ff9b::/96, 6to4."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


def is_public(address: IPAddress) -> bool:
    """Whether a receiver may be at this address: globally routable unicast only."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
        if address.is_site_local:
            return False
    if any(address in network for network in _NEVER):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


@dataclass(frozen=True)
class Target:
    """A URL resolved and checked: where to connect, and the name to present there."""

    scheme: str
    host: str  # the name (IDNA) or address literal, for TLS
    port: int
    host_header: str
    path: str
    addresses: tuple[str, ...]


def parse(url: str, allow_insecure: bool) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parses the port, which may be out of range
    except ValueError:
        raise WebhookUrlError("the URL cannot be read") from None
    if "\x00" in url or any(c.isspace() for c in url):
        raise WebhookUrlError("the URL must not contain spaces or control characters")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookUrlError("the URL must be an absolute https URL")
    if parts.scheme != "https" and not allow_insecure:
        raise WebhookUrlError("the URL must use https")
    if parts.username or parts.password:
        raise WebhookUrlError("the URL must not carry credentials")
    return parts


def resolve(url: str, allow_insecure: bool) -> Target:
    """Resolves the URL's host once and refuses it unless every address is public
    (`allow_insecure`, on a laptop and in tests, lets loopback and private ones through)."""
    parts = parse(url, allow_insecure)
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    try:
        host = parts.hostname.encode("idna").decode("ascii")
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise WebhookUrlError("the URL's host name does not resolve") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise WebhookUrlError("the URL's host name does not resolve")
    if not allow_insecure:
        for address in addresses:
            if not is_public(ipaddress.ip_address(address)):
                raise WebhookUrlError(
                    "the URL resolves to a private, loopback or link-local address"
                )
    host_header = f"[{host}]" if ":" in host else host
    if port != default_port:
        host_header += f":{port}"
    path = requests.utils.requote_uri(parts.path or "/")
    if parts.query:
        path += "?" + requests.utils.requote_uri(parts.query)
    return Target(parts.scheme, host, port, host_header, path, addresses)


class _Deadline:
    """The attempt's end. When it passes, every socket of the attempt is shut down, which
    ends the read or write in progress, whatever phase the exchange is in."""

    def __init__(self, seconds: float) -> None:
        self.ends_at = time.monotonic() + seconds
        self.passed = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._pass)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.ends_at - time.monotonic()
        if left <= 0 or self.passed:
            raise TimeoutError("deadline passed")
        return left

    def watch(self, sock: socket.socket) -> None:
        # A duplicate of the descriptor: shutting it down shuts the connection down, even
        # once TLS has taken the original socket object over.
        with self._lock:
            if self.passed:
                raise TimeoutError("deadline passed")
            self._sockets.append(sock.dup())

    def _pass(self) -> None:
        with self._lock:
            self.passed = True
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _CappedReader:
    """The answer as http.client reads it, refused past a number of bytes, headers
    included (http.client alone accepts 100 header lines of 64 KiB each)."""

    def __init__(self, raw, cap: int) -> None:
        self._raw = raw
        self._left = cap

    def _allowed(self, size: int | None) -> int:
        if self._left <= 0:
            raise AnswerTooLarge(f"the answer passes {ANSWER_CAP // 1024} KiB")
        return self._left if size is None or size < 0 else min(size, self._left)

    def _count(self, data):
        self._left -= len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        return self._count(self._raw.readline(self._allowed(size)))

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self._raw.read(self._allowed(size)))

    def read1(self, size: int = -1) -> bytes:
        return self._count(self._raw.read1(self._allowed(size)))

    def readinto(self, buffer) -> int:
        read = self._raw.readinto(memoryview(buffer)[: self._allowed(len(buffer))])
        self._left -= read or 0
        return read

    def peek(self, size: int = 0) -> bytes:
        return self._raw.peek(self._allowed(size))[: self._left]

    def fileno(self) -> int:
        return self._raw.fileno()

    def flush(self) -> None:
        self._raw.flush()

    def close(self) -> None:
        self._raw.close()


class _CappedResponse(http.client.HTTPResponse):
    def __init__(self, sock, *args, **kwargs) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp = _CappedReader(self.fp, ANSWER_CAP)


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP to one address checked beforehand, never to a name resolved anew."""

    response_class = _CappedResponse

    def __init__(self, address: str, port: int, deadline: _Deadline) -> None:
        super().__init__(address, port, timeout=deadline.remaining())
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()
        self._deadline.watch(self.sock)


class _PinnedTLSConnection(_PinnedConnection):
    """HTTPS to one checked address; SNI and the certificate's check use the URL's name."""

    def __init__(self, address: str, port: int, deadline: _Deadline, server_hostname: str):
        super().__init__(address, port, deadline)
        self._server_hostname = server_hostname

    def connect(self) -> None:
        super().connect()
        self.sock = _tls_context().wrap_socket(self.sock, server_hostname=self._server_hostname)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # The same authorities as before, when requests sent webhooks.
    return ssl.create_default_context(cafile=requests.certs.where())


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str | None  # why there is no status code, or what the body of a non-2xx said


def post(
    url: str, body: bytes, headers: dict[str, str], seconds: float, allow_insecure: bool
) -> Answer:
    """POSTs `body` to the receiver at `url`, all of it within `seconds`."""
    deadline = _Deadline(seconds)
    try:
        return _post(url, body, headers, deadline, allow_insecure)
    except WebhookUrlError as exc:
        return Answer(None, str(exc))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if deadline.passed or isinstance(exc, TimeoutError):
            return Answer(None, f"timed out after {seconds:g} s")
        return Answer(None, f"{type(exc).__name__}: {exc}"[:1000])
    finally:
        deadline.close()


def _post(url, body, headers, deadline: _Deadline, allow_insecure: bool) -> Answer:
    target = resolve(url, allow_insecure)
    connection = _connect(target, deadline)
    response = None
    try:
        connection.request("POST", target.path, body, {**headers, "Host": target.host_header})
        response = connection.getresponse()
        if 200 <= response.status < 300:
            return Answer(response.status, None)  # acknowledged: its body does not matter
        try:
            excerpt = response.read(EXCERPT_BYTES)
        except (OSError, http.client.HTTPException):
            excerpt = b""
        return Answer(response.status, excerpt.decode("utf-8", "replace") or None)
    finally:
        # Closed, not drained: the socket really closes once its response file does.
        if response is not None:
            response.close()
        connection.close()


def _connect(target: Target, deadline: _Deadline) -> _PinnedConnection:
    """A connection to the first of the checked addresses that answers."""
    failure: OSError | None = None
    for address in target.addresses:
        if target.scheme == "https":
            connection = _PinnedTLSConnection(address, target.port, deadline, target.host)
        else:
            connection = _PinnedConnection(address, target.port, deadline)
        try:
            connection.connect()
            return connection
        except OSError as exc:
            connection.close()
            if deadline.passed:
                raise
            failure = exc
    # resolve() never gives a target without an address; if one came, say so plainly
    # (an assert would vanish under python -O and leave `raise None`).
    raise failure or OSError(f"no address to connect to for {target.host}")
