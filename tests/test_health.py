from app import __version__, create_app, db
from app.redis_conn import close_redis


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": {"ok": True},
        "redis": {"ok": True, "state": "ok", "breaker": "closed"},
        "version": __version__,
    }


def test_healthz_says_when_redis_is_unreachable(config_class, _schema):
    class NoRedis(config_class):
        REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    app = create_app(NoRedis)
    with app.app_context():
        response = app.test_client().get("/healthz")
        ready = app.test_client().get("/readyz")
        db.session.remove()
        db.engine.dispose()
    close_redis(app)
    assert response.status_code == 503
    assert response.json["status"] == "degraded"
    assert response.json["database"] == {"ok": True}
    assert response.json["redis"]["ok"] is False
    # A load balancer keeps the node: Redis is shared, and pages work without it.
    assert ready.status_code == 200
    assert ready.json["status"] == "ready" and ready.json["database"] == {"ok": True}
    assert ready.json["redis"]["ok"] is False and ready.json["redis"]["state"] == "down"


def test_readyz_says_ready_while_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["status"] == "ready"
    assert response.json["version"] == __version__  # which nodes a rolling upgrade has reached
