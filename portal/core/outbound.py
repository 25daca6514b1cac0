"""Calling another service's HTTP API (webhook receivers, SMS providers): every address is
checked against the platform's rule on internal networks, before the call and once connected,
and every failure comes back as words for the person reading the log, never as an exception."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

import urllib3
from flask_babel import gettext as _

from portal.core import guard

REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: How much of the service's answer is kept.
ANSWER_KEPT = 2000


@dataclass
class Answer:
    #: None when no answer came (refused address, timeout, connection error).
    status: int | None
    text: str = ""
    #: Why no answer came, or the redirects taken.
    notes: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def call(
    method: str,
    url: str,
    *,
    body: bytes,
    headers: dict,
    private_allowed: bool,
    timeout: float,
    redirects: int = 0,
) -> Answer:
    """One request, following at most ``redirects`` redirects, each checked as the first URL."""
    manager = urllib3.PoolManager(
        retries=False, timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
    )
    if not private_allowed:
        manager.pool_classes_by_scheme = guard.GUARDED_POOLS
    notes: list[str] = []
    try:
        for hop in range(redirects + 1):
            guard.check_url(url, private_allowed)
            response = manager.request(
                method, url, body=body, headers=headers, redirect=False, preload_content=False
            )
            try:
                raw = response.read(ANSWER_KEPT * 4)
            finally:
                response.release_conn()
            text = raw.decode("utf-8", "replace")[:ANSWER_KEPT]
            location = response.headers.get("location")
            if response.status in REDIRECTS and location and hop < redirects:
                url = urljoin(url, location)
                notes.append(_("redirected to %(url)s", url=url))
                continue
            return Answer(response.status, text, "; ".join(notes)[:500] or None)
    except guard.Refused as refusal:
        notes.append(str(refusal.reason))
    except urllib3.exceptions.TimeoutError:
        notes.append(_("No answer within %(seconds)s seconds.", seconds=f"{timeout:g}"))
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        notes.append(_("Connection failed: %(error)s", error=str(exc)))
    finally:
        manager.clear()
    return Answer(None, "", "; ".join(notes)[:500])
