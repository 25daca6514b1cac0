"""How gunicorn serves Carnet in production: ``gunicorn -c python:portal.gunicorn_config
--bind HOST:PORT wsgi:app``, also what ``python3 -m portal run`` and the load benchmark use.

Threaded workers keep a browser's connection open between its requests (the page, then its
HTMX counters), so one slow database answer holds one thread, not a whole process. Gunicorn
reads this file itself; Carnet's own settings stay in portal/config.py.
"""

from __future__ import annotations

import os

# One process per core (at least two, so that one restarting never leaves the site down), each
# with a few threads, which serve other requests while one waits on the database or Redis.
workers = int(os.environ.get("WEB_CONCURRENCY") or max(2, os.cpu_count() or 1))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 4)
# Seconds an idle connection is kept: longer than a page's HTMX requests are apart, shorter
# than the proxy in front keeps its own (nginx: 60 s).
keepalive = 20
timeout = 60
graceful_timeout = 30
# The TLS proxy in front writes the access log; gunicorn writes its errors to stderr.
accesslog = None
errorlog = "-"
# No control socket in the home folder, which several servers on one host would share.
control_socket_disable = True
