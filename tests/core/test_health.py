from __future__ import annotations

from portal import create_app


def test_healthz_answers_200_when_database_and_redis_answer(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_answers_503_naming_what_is_down(app):
    from portal.extensions import db

    broken = create_app({"REDIS_URL": "unix:///nonexistent/redis.sock"})
    answer = broken.test_client().get("/healthz")
    with broken.app_context():
        db.engine.dispose()
    assert answer.status_code == 503
    assert answer.json["database"] == "ok"
    assert answer.json["redis"].startswith("error")


def test_pages_carry_a_csp_without_inline_script(client):
    answer = client.get("/login")
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "<script>" not in answer.get_data(as_text=True)
    assert "HX-Request" in answer.headers["Vary"]
