"""The yardstick of the load benchmark: the smallest Flask page, served by gunicorn with
Carnet's production settings. Not part of Carnet."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello"
