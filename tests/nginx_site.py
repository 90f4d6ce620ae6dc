"""The sample nginx site (deploy/nginx/interview-room.conf) as the nginx installed here reads it.

The site says `http2 on;` (nginx 1.25.1 and later). The nginx these tests find may be older
(Debian 12 ships 1.22, which knows only `listen 443 ssl http2;`): there the one line is written
the old way, exactly as the site's comment tells operators to, and everything else is tested as
shipped.
"""

import gzip
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from bench.nginx_front import write_main_conf

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "interview-room.conf"
HTTP2_DIRECTIVE = (1, 25, 1)
MIME_TYPES = "/etc/nginx/mime.types"


def nginx_version() -> tuple[int, ...]:
    result = subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=True)
    match = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", result.stderr)
    assert match, result.stderr
    return tuple(int(part) for part in match.groups())


def site_for_installed_nginx() -> str:
    site = SITE.read_text()
    if nginx_version() >= HTTP2_DIRECTIVE:
        return site
    assert site.count("http2 on;\n") == 1 and site.count("listen 443 ssl;\n") == 1
    lines = [line for line in site.splitlines(keepends=True) if line.strip() != "http2 on;"]
    return "".join(lines).replace("listen 443 ssl;\n", "listen 443 ssl http2;\n")


class _Echo(BaseHTTPRequestHandler):
    """The app's stand-in: answers with the headers it received, as JSON. Like the app behind
    HTTPS it sends its own HSTS; `?pad=N` makes the answer N bytes longer (to be worth gzip),
    `?gzip=1` sends it gzipped to a client that accepts gzip."""

    def do_GET(self):
        seen = {k.lower(): v for k, v in self.headers.items()}
        query = parse_qs(urlsplit(self.path).query)
        pad = query.get("pad", ["0"])[0]
        body = json.dumps({**seen, "padding": "x" * int(pad)}).encode()
        # `?gzip=1`: compressed as the app compresses (app/compression.py), when asked.
        compressed = "gzip" in query and "gzip" in seen.get("accept-encoding", "")
        if compressed:
            body = gzip.compress(body, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        if compressed:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if self.path.startswith("/pulse/"):
            # What Flask adds to every answer, the pulse's included: nginx must not keep a copy
            # per cookie, nor pass a cookie on.
            self.send_header("Vary", "Cookie")
            self.send_header("Set-Cookie", "session=someone; HttpOnly")
            self.send_header("X-Accel-Expires", f"@{int(time.time())}")  # as the app says
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Ports(NamedTuple):
    https: int
    http: int


@contextmanager
def running_site(tmp_path: Path, edit=None) -> Iterator[Ports]:
    """The site on free local ports (yielded) in front of the echoing stand-in, serving the
    repository's app/static as /static/, with a throwaway certificate. `edit`, if given, changes
    the site's text first (an operator's change to test)."""
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
    port, http_port = _free_port(), _free_port()
    conf = (
        site_for_installed_nginx()
        .replace("/etc/ssl/interview-room/", f"{tmp_path}/")
        .replace("/srv/interview-room/app/static/", f"{ROOT}/app/static/")
        .replace("server 127.0.0.1:8000", f"server 127.0.0.1:{backend.server_port}")
        .replace("listen 443 ssl", f"listen 127.0.0.1:{port} ssl")
        .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        .replace("/var/lib/nginx/interview-room-pulse", f"{tmp_path}/pulse-cache")
    )
    (tmp_path / "site.conf").write_text(edit(conf) if edit else conf)
    write_main_conf(tmp_path)
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
            error = (tmp_path / "nginx-error.log").read_text()
            raise AssertionError(f"nginx did not start: {error}")
        yield Ports(https=port, http=http_port)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        backend.shutdown()
        backend.server_close()
