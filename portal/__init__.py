"""Carnet, a school communication portal.

Importing this package loads no third-party code: ``python3 -m portal`` runs before anything
is installed. create_app() imports what it wires.
"""

from __future__ import annotations


def create_app(overrides: dict | None = None):
    from flask import Flask

    from portal import config, domains
    from portal.core import web

    settings = config.load()
    app = Flask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(config.ROOT / "templates"),
        static_folder=str(config.ROOT / "static"),
    )
    app.config.update(settings)
    app.config.update(overrides or {})
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    every = domains.domains()
    web.init_extensions(app)
    for domain in every:
        if domain.init_app is not None:
            domain.init_app(app)
        for blueprint in domain.blueprints:
            app.register_blueprint(blueprint)
        app.jinja_env.globals.update(domain.template_globals)
        app.jinja_env.filters.update(domain.template_filters)
        for command in domain.commands:
            app.cli.add_command(command)
    web.register_request_hooks(app)
    web.register_error_handlers(app)
    return app
