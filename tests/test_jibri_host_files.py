"""The Jibri host's files in jitsi/jibri/ are real configuration: nginx accepts the recordings site
and serves the app servers only, systemd accepts the delivery loop's unit, the compose override
runs the loop on the volumes Jibri writes, and every setting finalize.sh reads is documented.

nginx and systemd-analyze are used where installed (`.ci/run` installs nginx-light), as in
tests/test_deploy_files.py.
"""

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JIBRI = ROOT / "jitsi" / "jibri"
SITE = JIBRI / "nginx-recordings.conf"
SCRIPT = JIBRI / "finalize.sh"

pytestmark = pytest.mark.postgres_pass  # tests/conftest.py: not a database test

needs_nginx = pytest.mark.skipif(
    shutil.which("nginx") is None and not os.environ.get("DEPLOY_CHECKS_REQUIRED"),
    reason="nginx is not installed here (.ci/run installs nginx-light)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _nginx_site(tmp_path: Path, port: int | None = None, allow: str | None = None) -> Path:
    """The sample site with a throw-away certificate, a temp root and (optionally) plain HTTP on
    `port` with `allow` as the only app server; returns the nginx.conf to start."""
    ssl = tmp_path / "ssl"
    ssl.mkdir()
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=t", "-keyout", str(ssl / "privkey.pem")),
            *("-out", str(ssl / "fullchain.pem")),
        ],
        check=True,
        capture_output=True,
    )
    recordings = tmp_path / "storage" / "jibri" / "recordings"
    recordings.mkdir(parents=True)
    site = SITE.read_text().replace("/etc/ssl/jibri-recordings/", f"{ssl}/")
    site = site.replace("/root/.jitsi-meet-cfg/storage/jibri/recordings", str(recordings))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    if port is not None:
        site = site.replace("listen 8443 ssl;", f"listen 127.0.0.1:{port};")
        site = re.sub(r"(\s+allow [0-9.]+;)+", f"\n    allow {allow};", site, count=1)
    (tmp_path / "site.conf").write_text(site)
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        # root: the test's temp folders are root's own; a real host keeps nginx's default user.
        f"user root;\nevents {{}}\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    return conf


@needs_nginx
def test_nginx_accepts_the_recordings_site(tmp_path):
    conf = _nginx_site(tmp_path)
    result = subprocess.run(
        ["nginx", "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def _status(url: str, method: str = "GET") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@needs_nginx
@pytest.mark.parametrize("allowed", [True, False])
def test_the_recordings_site_serves_the_app_servers_only_and_reads_only(tmp_path, allowed):
    port = _free_port()
    conf = _nginx_site(tmp_path, port, "127.0.0.1" if allowed else "192.0.2.1")
    session = tmp_path / "storage" / "jibri" / "recordings" / "7f3c-session"
    session.mkdir()
    (session / "ir-x_2026-11-23-10-00-00.mp4").write_bytes(b"\0" * 1000)
    (session / ".partial").write_bytes(b"x")
    server = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        file_url = f"{base}/7f3c-session/ir-x_2026-11-23-10-00-00.mp4"
        if not allowed:
            assert _status(file_url)[0] == 403
            return
        status, body = _status(file_url)
        assert (status, len(body)) == (200, 1000)
        assert _status(f"{base}/7f3c-session/")[0] in (403, 404)  # no listing
        assert _status(f"{base}/7f3c-session/.partial")[0] == 404
        assert _status(f"{base}/7f3c-session/nothing.mp4")[0] == 404
        assert _status(file_url, "DELETE")[0] == 405
        assert _status(file_url, "PUT")[0] == 405
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stderr.close()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_accepts_the_delivery_loops_unit():
    unit = JIBRI / "interview-room-finalize-spool.service"
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True
    )
    bad = [
        line
        for line in result.stderr.splitlines()
        if "Unknown" in line or "Invalid" in line or "Failed to parse" in line
    ]
    assert bad == [], result.stderr
    text = unit.read_text()
    assert "--deliver-loop" in text and "Restart=always" in text


def test_the_compose_override_runs_the_loop_on_jibris_own_volumes():
    """docker-jitsi-meet's jibri.yml mounts ${CONFIG}/jibri at /config and
    ${CONFIG}/storage/jibri at /storage; the loop must see the same spool and env file."""
    text = (JIBRI / "jibri.override.yml").read_text()
    assert '["bash", "/config/finalize.sh", "--deliver-loop"]' in text
    assert "- ${CONFIG}/jibri:/config:ro" in text
    assert "- ${CONFIG}/storage/jibri:/storage" in text
    assert "FINALIZE_ENV_FILE=/config/finalize.env" in text
    assert "restart:" in text


def _settings_the_script_reads() -> set[str]:
    """The environment the script reads: every `${NAME:-default}` (its own variables are used
    without a default)."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", SCRIPT.read_text()))


def test_every_setting_the_script_reads_is_documented():
    names = _settings_the_script_reads()
    assert {"INTERVIEW_APP_URL", "JIBRI_WEBHOOK_SECRET", "FINALIZE_ENV_FILE"} <= names
    readme = (ROOT / "jitsi" / "README.md").read_text(encoding="utf-8")
    example = (JIBRI / "finalize.env.example").read_text(encoding="utf-8")
    header = SCRIPT.read_text().split("set -euo pipefail", 1)[0]
    for name in names:
        assert f"`{name}`" in readme, name
        assert name in header, name
        if name != "FINALIZE_ENV_FILE":
            assert name in example, name


def test_the_readme_names_the_apps_recording_settings_and_the_right_folder():
    readme = (ROOT / "jitsi" / "README.md").read_text(encoding="utf-8")
    for name in (
        "JIBRI_TIMEZONE",
        "JIBRI_RECORDINGS_URL",
        "RECORDINGS_DIR",
        "JIBRI_WEBHOOK_SECRET",
    ):
        assert f"`{name}`" in readme, name
    assert "${CONFIG}/storage/jibri/recordings" in readme
    assert "${CONFIG}/jibri/recordings" not in readme
    main = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "${CONFIG}/jibri/recordings" not in main
    assert "${CONFIG}/storage/jibri/recordings" in main
