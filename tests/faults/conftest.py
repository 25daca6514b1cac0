"""Shared by the fault tests on workers and e-mail: an SMTP server on loopback that can be told
to refuse, to fail for a while or to keep its answer to one e-mail, and that counts what it
accepted per address."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port

#: The longest a held answer waits for release(): longer than any test holds it.
HOLD_SECONDS = 120


class ScriptedSmtp:
    """A real SMTP server (aiosmtpd) on a loopback port of its own that can be told to answer as
    a busy or failing server would. ``stop()`` closes the port (connections are refused) and
    ``start()`` opens it again; ``fail_once(address, code)`` answers the first attempt for that
    address with a temporary failure: 421 to RCPT TO, or 451 once the message has been sent;
    ``hold(address)`` keeps the answer to the next message for that address (received already,
    as by a server that has queued it) until ``release()``, or ``HOLD_SECONDS`` at most."""

    def __init__(self):
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        #: Every message accepted (or held), in order.
        self.received: list = []
        #: The temporary failures answered, one code per attempt refused.
        self.failures: list[int] = []
        self.holding = threading.Event()
        self._fail_once: dict[str, int] = {}
        self._hold_for: str | None = None
        self._released = threading.Event()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail_once(self, address: str, code: int) -> None:
        assert code in (421, 451)
        self._fail_once[address] = code

    def hold(self, address: str) -> None:
        self._hold_for = address

    def release(self) -> None:
        self._released.set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self._fail_once.get(address) == 421:
            del self._fail_once[address]
            self.failures.append(421)
            return "421 4.3.2 Service not available, try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(self._fail_once.get(address) == 451 for address in envelope.rcpt_tos):
            for address in envelope.rcpt_tos:
                self._fail_once.pop(address, None)
            self.failures.append(451)
            return "451 4.3.0 Temporary failure, try again later"
        self.received.append(envelope)
        if self._hold_for in envelope.rcpt_tos:
            self._hold_for = None
            self.holding.set()
            deadline = time.monotonic() + HOLD_SECONDS
            while not self._released.is_set():
                if time.monotonic() > deadline:  # the test went; answer rather than hang
                    return "451 4.3.0 Held too long by the test"
                await asyncio.sleep(0.02)
        return "250 OK"

    def per_address(self) -> Counter:
        return Counter(address for envelope in list(self.received) for address in envelope.rcpt_tos)

    def messages_to(self, address: str) -> list:
        """The e-mails received for ``address``, parsed."""
        return [
            message_from_bytes(envelope.content, policy=policy.default)
            for envelope in list(self.received)
            if address in envelope.rcpt_tos
        ]


@pytest.fixture
def scripted_smtp():
    """A ScriptedSmtp, accepting; workers are started with ``SMTP_URL=scripted_smtp.url``."""
    server = ScriptedSmtp()
    server.start()
    try:
        yield server
    finally:
        server.release()
        server.stop()
