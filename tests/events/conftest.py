"""Fixtures for the event log and webhook tests."""

import socket

import pytest


class FakeDns:
    """Answers for names under .test; every other name resolves as usual."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.answer_once: set[str] = set()  # names that vanish after their first answer
        self.lookups: list[str] = []

    def __setitem__(self, name: str, addresses: list[str]) -> None:
        self.answers[name] = addresses

    def getaddrinfo(self, host, port):
        self.lookups.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addresses = self.answers[host]
        if host in self.answer_once:
            del self.answers[host]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, int(port), 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port)))
            for a in addresses
        ]


@pytest.fixture
def dns(monkeypatch):
    fake = FakeDns()
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".test"):
            return fake.getaddrinfo(host, port)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake
