"""The WSGI entry point: gunicorn 'wsgi:app', and flask --app wsgi <command>."""

from portal import create_app

app = create_app()
