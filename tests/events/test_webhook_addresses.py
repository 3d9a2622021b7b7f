"""Which addresses a webhook may go to, and what a URL resolves to: no connection made.

Names under .test are answered by the `dns` fixture, so public addresses appear here
only as values, never as targets.
"""

import ipaddress

import pytest

from portal.events.outbound import WebhookUrlError, is_public, resolve


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::7f00:1",  # local-use NAT64
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::7f00:1",  # IPv4-compatible, deprecated
        "::808:808",  # IPv4-compatible, even of a public address
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001::1",
        "2001:1::1",  # IETF protocol assignments, though Python 3.12 calls it global
        "0.0.0.0",
        "::",
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.10",
        "100.64.0.1",  # CGNAT
        "169.254.169.254",
        "192.0.0.9",
        "192.0.2.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.1",
        "192.88.99.1",  # 6to4 relay anycast
        "224.0.0.1",
        "233.252.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fe80::1%1",
        "fec0::1",  # site-local
        "ff02::1",
        "ff0e::1",
        "2001:db8::1",
        "3fff::1",
        "100::1",
        "5f00::1",
    ],
)
def test_an_address_into_a_private_or_special_network_is_refused(address):
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.215.14",
        "2606:4700::1111",
        "2001:4860:4860::8888",
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
        "2002:808:808::1",  # 6to4 of 8.8.8.8
        "::ffff:8.8.8.8",
    ],
)
def test_a_public_address_is_accepted(address):
    assert is_public(ipaddress.ip_address(address))


def test_a_name_is_refused_if_any_of_its_addresses_is_private(dns):
    dns["hooks.mixed.test"] = ["93.184.215.14", "10.0.0.1"]
    dns["hooks.nat64.test"] = ["2606:4700::1111", "64:ff9b::7f00:1"]
    for name in list(dns.answers):
        with pytest.raises(WebhookUrlError, match="private"):
            resolve(f"https://{name}/hook", allow_insecure=False)


def test_a_name_resolves_to_the_addresses_to_connect_to(dns):
    dns["hooks.public.test"] = ["93.184.215.14", "2606:4700::1111", "93.184.215.14"]
    target = resolve("https://Hooks.Public.test:8443/spi/hook?org=67", allow_insecure=False)
    assert target.addresses == ("93.184.215.14", "2606:4700::1111")
    assert target.host == "hooks.public.test"
    assert target.host_header == "hooks.public.test:8443"
    assert target.port == 8443
    assert target.path == "/spi/hook?org=67"


def test_loopback_and_private_names_pass_only_when_insecure_is_allowed(dns):
    dns["laptop.test"] = ["127.0.0.1"]
    with pytest.raises(WebhookUrlError):
        resolve("https://laptop.test/hook", allow_insecure=False)
    with pytest.raises(WebhookUrlError):
        resolve("https://localhost/hook", allow_insecure=False)
    assert resolve("http://laptop.test/hook", allow_insecure=True).addresses == ("127.0.0.1",)


def test_a_name_that_does_not_resolve_is_refused(dns):
    with pytest.raises(WebhookUrlError, match="does not resolve"):
        resolve("https://nowhere.test/hook", allow_insecure=False)
