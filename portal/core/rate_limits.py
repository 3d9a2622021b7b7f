"""Keys for rate limits: whose requests count together.

A mobile carrier puts many subscribers behind one public IPv4 address (carrier-grade
NAT), while on IPv6 each subscriber gets a whole /64 network. So an IPv4 address is
one key, and an IPv6 /64 is one key (a phone changes the last 64 bits at will).
Numbers and emails are keyed by a keyed hash: the limiter's store (Redis) holds no
phone number or address in clear.
"""

import hashlib
import hmac
import ipaddress

from flask import current_app, request


def network_key() -> str:
    """The client's IPv4 address, or its IPv6 /64 network."""
    address = request.remote_addr or ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "address:" + address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "ipv4:" + str(ip.ipv4_mapped)
        return "ipv6-64:" + str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return "ipv4:" + str(ip)


def private_key(kind: str, value: str) -> str:
    """`kind:` and a keyed hash of `value`: stable across workers, unreadable in the store."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{kind}:{digest}"
