"""The deployment files are real configuration: nginx accepts the site, systemd the units, and
gunicorn reads its settings. A typo here only shows on the exam-day server otherwise.

nginx and systemd-analyze are used where installed (`.ci/run` installs nginx-light).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.nginx_site import site_for_installed_nginx

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "interview-room.conf"

pytestmark = pytest.mark.postgres_pass  # tests/conftest.py: not a database test


@pytest.mark.skipif(
    shutil.which("nginx") is None and not os.environ.get("DEPLOY_CHECKS_REQUIRED"),
    reason="nginx is not installed here (.ci/run installs nginx-light)",
)
def test_nginx_accepts_the_site(tmp_path):
    ssl = tmp_path / "ssl"
    ssl.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=t",
            "-keyout",
            str(ssl / "privkey.pem"),
            "-out",
            str(ssl / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )
    site = site_for_installed_nginx().replace("/etc/ssl/interview-room/", f"{ssl}/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"events {{}}\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"http {{ include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_nginx_buffers_the_app_and_streams_only_recordings():
    """A gunicorn thread must never wait on a candidate's slow network: nginx buffers every answer
    except recording playback, which streams (files of gigabytes, Range requests)."""
    # Directives only: a comment may say "location" too.
    site = "\n".join(line.split("#", 1)[0] for line in SITE.read_text().splitlines())
    blocks = {}
    for chunk in site.split("location ")[1:]:
        path, body = chunk.split(" {\n", 1)
        blocks[path.strip()] = body.split("}", 1)[0]
    assert "proxy_buffering off" not in blocks["/"]
    assert "proxy_buffering off" in blocks["/staff/recordings/"]
    for path in ("/", "/staff/recordings/"):
        assert (
            "X-Forwarded-For $proxy_add_x_forwarded_for" in blocks[path]
        )  # ProxyFix, PROXY_COUNT=1
        assert "X-Forwarded-Proto $scheme" in blocks[path]  # secure cookies and HSTS behind HTTPS
        # The app trusts this hop's X-Forwarded-Host; -Prefix and -Port from a client are dropped
        # (ProxyFix takes no prefix unless PROXY_PREFIX=1, and never a port).
        assert "X-Forwarded-Host $host" in blocks[path]
        assert 'proxy_set_header X-Forwarded-Prefix "";' in blocks[path]
        assert 'proxy_set_header X-Forwarded-Port "";' in blocks[path]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_units_parse():
    folder = ROOT / "deploy" / "systemd"
    units = sorted([*folder.glob("*.service"), *folder.glob("*.timer")])
    assert len([u for u in units if u.suffix == ".timer"]) == 2  # the backup, the retention purge
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)], capture_output=True, text=True
    )
    # verify also complains that /srv/interview-room does not exist here: only syntax counts.
    bad = [
        line
        for line in result.stderr.splitlines()
        if "Unknown" in line or "Invalid" in line or "Failed to parse" in line
    ]
    assert bad == [], result.stderr


def test_gunicorn_reads_the_production_config():
    code = (
        "from gunicorn.app.wsgiapp import WSGIApplication as A; import sys; "
        "sys.argv=['gunicorn','-c','gunicorn.conf.py','wsgi:app']; a=A(); "
        "c=a.cfg; print(c.worker_class_str, c.threads, c.workers, c.max_requests, c.timeout)"
    )
    env = {**os.environ, "GUNICORN_WORKERS": "5", "GUNICORN_THREADS": "4"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["gthread", "4", "5", "20000", "30"]
