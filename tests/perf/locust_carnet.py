"""What the load benchmark's clients do (locust, run by tests/perf/bench_http.py).

    locust --headless -f tests/perf/locust_carnet.py --host http://127.0.0.1:PORT ...

Each client is one person of the school from the roster file named by BENCH_ROSTER, taken in
turn (parents, pupils and teachers mixed as the bench wrote them): it logs in with its password,
then, with no pause between its actions (BENCH_THINK seconds on average when set), opens its
home page and the page's HTMX requests (the unread counters and the flash banner), its inbox,
a conversation of its inbox, a search of the directory (the partial HTMX asks for), and sends
a message: a teacher to the families of one of its classes, a parent in reply to a message it
received or to a teacher of its child's class. Pupils read and search only. Each answer is
checked (status and a mark of the right page), so a page that comes back wrong counts as an
error, not only one that fails.

With BENCH_HELLO=1 the clients only ask for "/" of a minimal Flask page, as the yardstick.

The clients log in first, all at once; BENCH_WARM_UP seconds after the last is in (the servers
past their first requests), the statistics are reset, after the warm-up's counts and failures
are written to the file named by BENCH_WARM_UP_FILE, and BENCH_SECONDS later the run ends.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import urllib.parse
from http.cookiejar import DefaultCookiePolicy

import gevent
from locust import FastHttpUser, between, task

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MESSAGE_LINK = re.compile(r'href="/messages/([0-9]+)"')
CHIP = re.compile(r'<input type="hidden" name="(to|cc|bcc)" value="([^"]+)">')
SENT = re.compile(r"/messages/[0-9]+$")
HTMX = {"HX-Request": "true"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
HELLO = os.environ.get("BENCH_HELLO") == "1"

if HELLO:
    ROSTER: dict = {"accounts": [{}]}
else:
    with open(os.environ["BENCH_ROSTER"], encoding="utf-8") as _file:
        ROSTER = json.load(_file)
_ACCOUNTS = itertools.cycle(ROSTER["accounts"])


_started = {"count": 0}


def _measure_after_warm_up(environment) -> None:
    """Called once every client is in: reset the statistics after the warm-up, stop later."""
    warm_up = float(os.environ.get("BENCH_WARM_UP", 0))

    def reset():
        stats = environment.stats
        counts = {
            "requests": stats.total.num_requests,
            "failures": stats.total.num_failures,
            "errors": [f"{e.name}: {e.error} ({e.occurrences})" for e in stats.errors.values()],
        }
        with open(os.environ["BENCH_WARM_UP_FILE"], "w", encoding="utf-8") as file:
            json.dump(counts, file)
        stats.reset_all()

    gevent.spawn_later(warm_up, reset)
    gevent.spawn_later(warm_up + float(os.environ["BENCH_SECONDS"]), environment.runner.quit)


class Person(FastHttpUser):
    """One person of the school using Carnet in a browser that keeps its connection open."""

    #: No pause by default (BENCH_THINK=0): each client asks again as soon as it is answered.
    wait_time = between(0, 2 * float(os.environ.get("BENCH_THINK", 0)))
    network_timeout = 30.0
    connection_timeout = 30.0

    def on_start(self):
        # Carnet's production cookies are Secure: the browser sends them over https to the TLS
        # proxy, which passes them on over plain HTTP, the leg these clients stand on.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(secure_protocols=("https", "http")))
        self.account = next(_ACCOUNTS)
        self.rng = random.Random(self.account.get("login", "hello"))
        self.received: list[int] = []
        self.token = ""
        if not HELLO:
            self._log_in()
        _started["count"] += 1
        if _started["count"] == self.environment.runner.target_user_count:
            _measure_after_warm_up(self.environment)

    # --- helpers --------------------------------------------------------------------------

    def _get(self, path: str, name: str, mark: str, headers=None) -> str | None:
        """GET ``path``; an answer other than 200 with ``mark`` in it is a failure, and so is a
        whole page where an HTMX request asked for a part of one."""
        with self.client.get(path, name=name, headers=headers, catch_response=True) as answer:
            text = answer.text or ""
            if answer.status_code != 200 or mark not in text:
                answer.failure(f"HTTP {answer.status_code}, {mark!r} not found")
                return None
            if headers is HTMX and "<html" in text:
                answer.failure("a whole page where a part of one was asked for")
                return None
            return text

    def _post(self, path: str, name: str, form: list[tuple[str, str]]):
        """POST ``form`` without following the redirect, so that the POST is timed alone."""
        body = urllib.parse.urlencode(form)
        return self.client.post(
            path, data=body, headers=FORM, name=name, allow_redirects=False, catch_response=True
        )

    def _log_in(self) -> None:
        page = self._get("/login", "login form", 'name="csrf_token"')
        token = TOKEN.search(page or "")
        form = [
            ("csrf_token", token[1] if token else ""),
            ("login", self.account["login"]),
            ("password", ROSTER["password"]),
        ]
        with self._post("/login", "login", form) as answer:
            if answer.status_code != 302 or not answer.headers.get("Location", "").endswith(
                self.account["home"]
            ):
                answer.failure(f"login answered HTTP {answer.status_code}")

    def _form_token(self, page: str | None) -> str:
        found = TOKEN.search(page or "")
        return found[1] if found else ""

    # --- what a person does ---------------------------------------------------------------

    @task(3)
    def home(self):
        if HELLO:
            self._get("/", "hello", "Hello")
            return
        self._get(self.account["home"], "home", "</html>")
        self._get("/messages/counter", "messages counter", "/messages/counter", HTMX)
        self._get("/notifications/counter", "notifications counter", "/notifications/", HTMX)
        self._get("/flash/banner", "flash banner", "", HTMX)

    @task(3)
    def inbox(self):
        if HELLO:
            self._get("/", "hello", "Hello")
            return
        page = self._get("/messages/folder/inbox", "inbox", "</html>")
        if page:
            self.received = [int(found) for found in MESSAGE_LINK.findall(page)]

    @task(3)
    def thread(self):
        if HELLO:
            self._get("/", "hello", "Hello")
            return
        if not self.received:
            self.inbox()
            return
        message = self.rng.choice(self.received)
        self._get(f"/messages/{message}", "thread", "</html>")

    @task(2)
    def directory(self):
        if HELLO:
            self._get("/", "hello", "Hello")
            return
        words = urllib.parse.quote(self.rng.choice(ROSTER["words"]))
        self._get(f"/directory/?q={words}", "directory search", "", HTMX)

    @task(1)
    def send(self):
        if HELLO:
            self._get("/", "hello", "Hello")
            return
        profile = self.account["profile"]
        if profile == "teacher":
            to = [self.rng.choice(self.account["families"])]
            self._post_message(to, None, "Classe : sortie de jeudi")
        elif profile == "parent":
            if self.received and self.rng.random() < 0.5:
                self._reply(self.rng.choice(self.received))
            else:
                to = [self.rng.choice(self.account["teachers"])]
                self._post_message(to, None, "Question sur les devoirs")
        else:
            self.directory()

    def _reply(self, message: int) -> None:
        page = self._get(f"/messages/new?reply={message}", "compose", 'name="subject"')
        chips = CHIP.findall(page or "")
        if page is None or not chips:  # a message that may not be answered: write afresh
            to = [self.rng.choice(self.account["teachers"])]
            self._post_message(to, None, "Question sur les devoirs", page)
            return
        self._post_message(chips, message, "Re", page)

    def _post_message(self, to, reply_to, subject, page=None) -> None:
        """Send to ``to``: picker tokens, or (field, token) pairs as a reply's chips are."""
        if page is None:
            page = self._get("/messages/new", "compose", 'name="subject"')
        form = [("csrf_token", self._form_token(page))]
        form += [chip if isinstance(chip, tuple) else ("to", chip) for chip in to]
        form += [("subject", subject), ("body", "Bonjour, merci de votre message. Bonne journée.")]
        form += [("reply_to", str(reply_to) if reply_to else ""), ("draft", "")]
        with self._post("/messages/new", "send", form) as answer:
            if answer.status_code != 302 or not SENT.search(answer.headers.get("Location", "")):
                answer.failure(f"send answered HTTP {answer.status_code}")
