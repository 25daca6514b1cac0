"""Where a webhook may go (SPEC §9): never to loopback, private, link-local, shared or cloud
metadata addresses, unless the platform allows them (a test or development platform).

The address is checked three times: when the URL is saved (its host name resolved), before
each call, and on the socket itself once it is connected, so that a name that resolves to a
public address at first and to an internal one later (DNS rebinding) is still refused. Each
redirect is a new URL and goes through the same checks. No maintained synchronous client does
the connected-socket check, hence this small layer over urllib3's connection classes.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

#: Cloud metadata services that sit on otherwise ordinary-looking addresses.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, Google Cloud, Azure, OpenStack
        "169.254.170.2",  # AWS containers
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure's host services, on a public address
    )
)


class Refused(Exception):
    """The URL or the address it reached may not be called; ``reason`` says why, for the admin."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def refused_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip in METADATA or not ip.is_global or ip.is_multicast


def check_url(url: str, private_allowed: bool) -> None:
    """Refused unless ``url`` is an https URL (http too outside production) whose host resolves
    only to addresses that may be called."""
    parts = urlsplit(url)
    schemes = ("https",) if current_app.config["WEBHOOK_HTTPS_ONLY"] else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname:
        raise Refused(_l("Give an address starting with https://."))
    if parts.username or parts.password:
        raise Refused(_l("Put no user name or password in the address."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused(_l("The port of this address is not valid.")) from None
    if private_allowed:
        return
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise Refused(_l("The host name of this address can't be found.")) from None
    if any(refused_address(info[4][0]) for info in found):
        raise Refused(_l("This address leads to a private or reserved network."))


class _PeerChecked:
    """A connection that looks at the address it actually reached before sending anything."""

    def _new_conn(self):
        sock = super()._new_conn()
        peer = sock.getpeername()[0]
        if refused_address(peer):
            sock.close()
            raise Refused(_l("This address leads to a private or reserved network."))
        return sock


class _HTTPConnection(_PeerChecked, HTTPConnection):
    pass


class _HTTPSConnection(_PeerChecked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


#: PoolManager.pool_classes_by_scheme for calls that must not reach internal addresses.
GUARDED_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}
