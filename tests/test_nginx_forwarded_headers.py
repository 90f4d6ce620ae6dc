"""The real nginx site in front of a backend that echoes the headers it receives: what a client
sends as X-Forwarded-* never reaches the app as if nginx had set it (issue 14, finding 9)."""

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.client import HTTPSConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "interview-room.conf"

pytestmark = [
    pytest.mark.postgres_pass,  # tests/conftest.py: not a database test
    pytest.mark.skipif(
        shutil.which("nginx") is None and not os.environ.get("DEPLOY_CHECKS_REQUIRED"),
        reason="nginx is not installed here (.ci/run installs nginx-light)",
    ),
]


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site(tmp_path):
    backend = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=t", "-keyout", str(tmp_path / "privkey.pem")),
            *("-out", str(tmp_path / "fullchain.pem")),
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    conf = (
        SITE.read_text()
        .replace("/etc/ssl/interview-room/", f"{tmp_path}/")
        .replace("server 127.0.0.1:8000", f"server 127.0.0.1:{backend.server_port}")
        .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{port} ssl;")
        .replace("listen 80;", f"listen 127.0.0.1:{_free_port()};")
    )
    (tmp_path / "site.conf").write_text(conf)
    temp = "".join(
        f"{kind}_temp_path {tmp_path}/{kind}; "
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ access_log off; {temp} include {tmp_path}/site.conf; }}\n"
    )
    nginx = subprocess.Popen(
        ["nginx", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail(f"nginx did not start: {(tmp_path / 'error.log').read_text()}")
        yield port
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        backend.shutdown()
        backend.server_close()


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
