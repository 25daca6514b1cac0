"""A provider speaking the Twilio Messages API, on loopback, for the SMS tests: it checks basic
auth, creates a message once per Idempotency-Key, answers as scripted (an error, or no answer
in time) before answering normally, and posts delivery reports signed as Twilio signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import urllib3


def twilio_signature(token: str, url: str, fields: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1 under the auth token of the URL followed by each
    field's name and value, sorted by name; base64."""
    signed = url + "".join(name + fields[name] for name in sorted(fields))
    return base64.b64encode(
        hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()


@dataclass
class Call:
    path: str
    #: Names in lower case.
    headers: dict[str, str]
    fields: dict[str, str]


@dataclass
class Message:
    sid: str
    to: str
    sender: str
    body: str
    callback: str
    key: str | None
    statuses: list[str] = field(default_factory=list)


class FakeTwilio:
    """``answers``: scripted answers used in turn before normal ones: (status, twilio error
    code, message), or ('slow', seconds) to create the message but answer only after that."""

    def __init__(self, account: str, token: str, answers: list | None = None):
        self.account, self.token = account, token
        self.answers = list(answers or [])
        self.calls: list[Call] = []
        self.messages: dict[str, Message] = {}
        self._by_key: dict[str, str] = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode()
                fields = dict(urllib.parse.parse_qsl(raw))
                status, answer, delay = fake._handle(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, fields
                )
                if delay:
                    time.sleep(delay)
                body = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handle(self, path: str, headers: dict, fields: dict):
        with self._lock:
            self.calls.append(Call(path, headers, fields))
            expected = "Basic " + base64.b64encode(f"{self.account}:{self.token}".encode()).decode()
            if path != f"/2010-04-01/Accounts/{self.account}/Messages.json":
                return 404, {"code": 20404, "message": "The requested resource was not found"}, 0
            if headers.get("authorization") != expected:
                return 401, {"code": 20003, "message": "Authenticate"}, 0
            scripted = self.answers.pop(0) if self.answers else None
            if scripted and scripted[0] != "slow":
                status, code, words = scripted
                return status, {"code": code, "message": words, "status": status}, 0
            key = headers.get("idempotency-key")
            sid = self._by_key.get(key) if key else None
            if sid is None:
                sid = f"SM{len(self.messages) + 1:032d}"
                self.messages[sid] = Message(
                    sid, fields["To"], fields["From"], fields["Body"], fields["StatusCallback"], key
                )
                if key:
                    self._by_key[key] = sid
            delay = scripted[1] if scripted else 0
            return 201, {"sid": sid, "status": "queued", "to": fields["To"]}, delay

    def report(self, sid: str, status: str, *, token: str | None = None):
        """A delivery report for the message, signed with its StatusCallback URL: what the
        app receives (path, form, headers), for a test client to post."""
        message = self.messages[sid]
        fields = {"MessageSid": sid, "MessageStatus": status, "AccountSid": self.account}
        signature = twilio_signature(token or self.token, message.callback, fields)
        parts = urllib.parse.urlsplit(message.callback)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return path, fields, {"X-Twilio-Signature": signature}

    def post_report(self, sid: str, status: str, base_url: str) -> int:
        """Post the report over HTTP to the app served at ``base_url``, as Twilio would."""
        path, fields, headers = self.report(sid, status)
        answer = urllib3.request(
            "POST",
            base_url + path,
            body=urllib.parse.urlencode(fields).encode(),
            headers={**headers, "content-type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        return answer.status

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
