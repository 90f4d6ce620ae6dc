"""The real nginx site in front of a backend that echoes the headers it receives: what a client
sends as X-Forwarded-* never reaches the app as if nginx had set it (issue 14, finding 9)."""

import json
import os
import shutil
import ssl
from http.client import HTTPSConnection

import pytest

from tests.nginx_site import running_site

pytestmark = [
    pytest.mark.postgres_pass,  # tests/conftest.py: not a database test
    pytest.mark.skipif(
        shutil.which("nginx") is None and not os.environ.get("DEPLOY_CHECKS_REQUIRED"),
        reason="nginx is not installed here (.ci/run installs nginx-light)",
    ),
]


@pytest.fixture
def site(tmp_path):
    with running_site(tmp_path) as ports:
        yield ports.https


@pytest.mark.parametrize("path", ["/staff/login", "/staff/recordings/1/play"])
def test_nginx_drops_forwarded_headers_a_client_sends(site, path):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = HTTPSConnection("127.0.0.1", site, context=context, timeout=10)
    try:
        seen = _headers_seen_by_the_app(conn, path)
    finally:
        conn.close()
    assert "x-forwarded-prefix" not in seen
    assert "x-forwarded-port" not in seen
    assert seen["x-forwarded-host"] == "interview.example.org"
    assert seen["x-forwarded-proto"] == "https"
    # The client's own X-Forwarded-For stays in front; PROXY_COUNT=1 takes only the last entry,
    # the address nginx saw.
    assert seen["x-forwarded-for"] == "10.9.9.9, 127.0.0.1"


def _headers_seen_by_the_app(conn, path) -> dict:
    conn.request(
        "GET",
        path,
        headers={
            "Host": "interview.example.org",
            "X-Forwarded-Prefix": "/evil",
            "X-Forwarded-Port": "8443",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "http",
            "X-Forwarded-For": "10.9.9.9",
        },
    )
    return json.loads(conn.getresponse().read())
