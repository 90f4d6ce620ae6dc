"""Issue 14, finding 9: ProxyFix takes X-Forwarded-For/-Proto/-Host from the one proxy, never a
client's X-Forwarded-Prefix (unless PROXY_PREFIX) or X-Forwarded-Port."""

import pytest

from app import create_app


@pytest.fixture
def proxied_app(config_class):
    class Proxied(config_class):
        PROXY_COUNT = 1

    return create_app(Proxied)


def test_a_client_sent_forwarded_prefix_is_not_trusted(proxied_app):
    client = proxied_app.test_client()
    response = client.get(
        "/hr/exams",
        headers={"X-Forwarded-Prefix": "/evil", "X-Forwarded-Port": "8443"},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/evil" not in location and "8443" not in location


def test_forwarded_for_and_proto_from_the_one_proxy_still_count(proxied_app):
    client = proxied_app.test_client()
    seen = {}

    @proxied_app.get("/_probe_proxy")
    def _probe():
        from flask import request

        seen.update(addr=request.remote_addr, scheme=request.scheme, root=request.script_root)
        return ""

    client.get(
        "/_probe_proxy",
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Prefix": "/evil",
        },
    )
    assert seen == {"addr": "203.0.113.9", "scheme": "https", "root": ""}


def test_a_prefix_is_taken_only_when_configured(config_class):
    class Prefixed(config_class):
        PROXY_COUNT = 1
        PROXY_PREFIX = True

    client = create_app(Prefixed).test_client()
    response = client.get("/hr/exams", headers={"X-Forwarded-Prefix": "/ir"})
    assert response.headers["Location"].startswith("/ir/staff/login")
