"""The production nginx site (deploy/nginx/interview-room.conf) in front of the bench's gunicorn.

The bench measures the deployment as it runs on an exam day: candidates' pages reach nginx, which
answers the panels' pulses from its one-second copies (app/day/pulse.py) and passes everything
else to gunicorn. The site is used as shipped except for what only a real host has: TLS (the
bench speaks plain HTTP on loopback: the certificates, `ssl_*` and `http2` lines go, the
redirecting port-80 server too), the paths (static files from this checkout, the pulse cache
in the run's folder) and the upstream's address.
"""

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "interview-room.conf"
MIME_TYPES = "/etc/nginx/mime.types"


def available() -> bool:
    return shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()


def _nginx() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def plain_http_site(listen_port: int, upstream_port: int, folder: Path) -> str:
    site = SITE.read_text()
    # The port-80 server only redirects to HTTPS: not part of what is measured.
    site = re.sub(r"server \{\s*listen 80;.*?\n\}\n", "", site, count=1, flags=re.S)
    kept = [
        line
        for line in site.splitlines(keepends=True)
        if not re.match(r"\s*(ssl_certificate|ssl_certificate_key|ssl_protocols|http2 on;)", line)
    ]
    site = "".join(kept)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen_port} reuseport;")
    site = site.replace("server 127.0.0.1:8000", f"server 127.0.0.1:{upstream_port}")
    site = site.replace("/srv/interview-room/app/static/", f"{ROOT}/app/static/")
    site = site.replace("/var/lib/nginx/interview-room-pulse", f"{folder}/pulse-cache")
    return site


def write_main_conf(folder: Path, main: str = "", events: str = "") -> Path:
    """`folder`/nginx.conf around `folder`/site.conf, everything nginx writes kept in `folder`
    (also what tests/nginx_site.py runs the site with)."""
    temp = "".join(
        f"{kind}_temp_path {folder}/{kind}; "
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Started as root (CI), nginx's workers would run as nobody and could not write the pulse's
    # cache under a root-only temporary folder.
    user = "user root; " if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    # As Debian's /etc/nginx/nginx.conf does: the types, without which CSS is text/plain.
    conf.write_text(
        f"daemon off; {user}{main} pid {folder}/nginx.pid; error_log {folder}/nginx-error.log;\n"
        f"events {{ {events} }}\n"
        f"http {{ access_log off; {temp} include {MIME_TYPES};\n"
        f"default_type application/octet-stream; include {folder}/site.conf; }}\n"
    )
    return conf


def start(upstream_port: int, folder: Path) -> tuple[subprocess.Popen, int]:
    """nginx (2 workers, as `worker_processes auto` gives here) on a free port; (process, port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (folder / "site.conf").write_text(plain_http_site(port, upstream_port, folder))
    write_main_conf(folder, "worker_processes auto;", "worker_connections 8192;")
    process = subprocess.Popen(
        [_nginx(), "-c", str(folder / "nginx.conf"), "-p", str(folder)],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    process.kill()
    error = (
        (folder / "nginx-error.log").read_text() if (folder / "nginx-error.log").exists() else ""
    )
    raise RuntimeError(f"nginx did not start: {error}")
