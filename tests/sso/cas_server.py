"""A CAS server on loopback for the single sign-on tests and the development demo.

The registries hold no CAS server that starts here, so this one is written from the CAS
Protocol 3.0 specification (apereo.github.io/cas/development/protocol/CAS-Protocol-Specification):

- ``/login?service=…``: a login page (any user name, no password; a box for "a second factor
  was used"), then a redirection to the service with a service ticket ``ST-…`` (§2.1, §3.1);
- ``/serviceValidate`` and ``/p3/serviceValidate?service=…&ticket=…``: the XML answer (§2.5,
  §2.6), with the user's attributes under ``cas:attributes`` (CAS 3). A ticket is valid once,
  for the service it was issued to, for ``TICKET_SECONDS`` (§3.1.1: "MUST only be valid for one
  ticket validation attempt", "SHOULD expire ... five minutes or less"); a failed validation
  consumes it too (§2.5: "the ticket MUST be invalidated");
- ``/logout``.

    python tests/sso/cas_server.py '{"port": 0, "attributes": {"user": {"name": "value"}}}'

prints ``ready <port>`` once listening.
"""

from __future__ import annotations

import html
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape

TICKET_SECONDS = 300
NS = "http://www.yale.edu/tp/cas"


class CasServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, attributes: dict | None = None):
        super().__init__(("127.0.0.1", port), _Handler)
        #: user name -> the attributes released for them.
        self.attributes = attributes or {}
        #: ticket -> (service, user, mfa, issued at)
        self.tickets: dict[str, tuple[str, str, bool, float]] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def issue(self, service: str, user: str, mfa: bool = False) -> str:
        ticket = "ST-" + secrets.token_urlsafe(24)
        with self.lock:
            self.tickets[ticket] = (service, user, mfa, time.monotonic())
        return ticket

    def validate(self, service: str, ticket: str) -> tuple[str, str] | tuple[str, str, bool]:
        """('ok', user, mfa) or (code, message) as §2.5.3 names the failures."""
        with self.lock:
            issued = self.tickets.pop(ticket, None)
        if not service or not ticket:
            return "INVALID_REQUEST", "service and ticket are required"
        if issued is None:
            return "INVALID_TICKET", f"ticket {ticket} not recognized"
        issued_for, user, mfa, at = issued
        if time.monotonic() - at > TICKET_SECONDS:
            return "INVALID_TICKET", f"ticket {ticket} expired"
        if issued_for != service:
            return "INVALID_SERVICE", f"ticket {ticket} was not issued for this service"
        return "ok", user, mfa

    def start(self) -> CasServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


def _with_ticket(service: str, ticket: str) -> str:
    parts = urlsplit(service)
    query = (parts.query + "&" if parts.query else "") + urlencode({"ticket": ticket})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class _Handler(BaseHTTPRequestHandler):
    server: CasServer

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: str, content_type: str, headers: dict | None = None):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def do_GET(self):
        path, query = urlsplit(self.path).path, self._query()
        if path == "/login":
            return self._login_page(query.get("service", ""))
        if path in ("/serviceValidate", "/p3/serviceValidate"):
            return self._validate(query, attributes=path.startswith("/p3/"))
        if path == "/logout":
            return self._send(200, "<p>Logged out.</p>", "text/html; charset=utf-8")
        return self._send(404, "not found", "text/plain")

    def do_POST(self):
        if urlsplit(self.path).path != "/login":
            return self._send(404, "not found", "text/plain")
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        service, user = form.get("service", ""), form.get("username", "").strip()
        if not service or not user:
            return self._login_page(service, status=400)
        ticket = self.server.issue(service, user, mfa=bool(form.get("mfa")))
        return self._send(302, "", "text/plain", {"Location": _with_ticket(service, ticket)})

    def _login_page(self, service: str, status: int = 200):
        body = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Test CAS server</title>
</head><body style="font-family:sans-serif;max-width:30rem;margin:2rem auto;padding:0 1rem">
<h1>Test CAS server</h1><p>Log in as anyone: no password is asked.</p>
<form method="post" action="/login"><input type="hidden" name="service"
 value="{html.escape(service)}"><p><label>User name <input name="username" autofocus required>
</label></p><p><label><input type="checkbox" name="mfa" value="1"> A second factor was used
</label></p><p><button type="submit">Log in</button></p></form></body></html>"""
        return self._send(status, body, "text/html; charset=utf-8")

    def _validate(self, query: dict, attributes: bool):
        answer = self.server.validate(query.get("service", ""), query.get("ticket", ""))
        if answer[0] != "ok":
            code, message = answer
            xml = (
                f'<cas:serviceResponse xmlns:cas="{NS}"><cas:authenticationFailure '
                f'code="{code}">{escape(message)}</cas:authenticationFailure>'
                "</cas:serviceResponse>"
            )
            return self._send(200, xml, "application/xml; charset=utf-8")
        _ok, user, mfa = answer
        released = dict(self.server.attributes.get(user, {}))
        if mfa:
            released["authnContextClass"] = "mfa-otp"
        inner = ""
        if attributes and released:
            inner = (
                "<cas:attributes>"
                + "".join(
                    f"<cas:{name}>{escape(str(value))}</cas:{name}>"
                    for name, values in released.items()
                    for value in (values if isinstance(values, list) else [values])
                )
                + "</cas:attributes>"
            )
        xml = (
            f'<cas:serviceResponse xmlns:cas="{NS}"><cas:authenticationSuccess>'
            f"<cas:user>{escape(user)}</cas:user>{inner}</cas:authenticationSuccess>"
            "</cas:serviceResponse>"
        )
        return self._send(200, xml, "application/xml; charset=utf-8")


if __name__ == "__main__":
    settings = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
    server = CasServer(settings.get("port", 0), settings.get("attributes"))
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()
