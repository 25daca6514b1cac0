"""Every Flask extension, created unbound; create_app() binds them."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx

from portal.core.db import Model
from portal.core.elision import ElidingBabel

# A pooled connection is tested before use: after the database restarts, a page is
# given a new connection rather than a dead one.
db = SQLAlchemy(model_class=Model, engine_options={"pool_pre_ping": True})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = ElidingBabel()
htmx = Htmx()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
