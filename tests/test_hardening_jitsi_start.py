"""Issue 14, finding 11: a short JITSI_APP_SECRET surfaced only as a 500 on the examiner
console. Now the app refuses to start, naming the variable and the rule, and
`flask --app wsgi jitsi check` says the same.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import create_app
from app.jitsi.tokens import ConfigError
from tests.conftest import TEST_REDIS_URL
from tests.jitsi_world import APP_ID, DOMAIN

ROOT = Path(__file__).resolve().parent.parent


def _hosted(config_class, **settings):
    class Hosted(config_class):
        JITSI_DOMAIN = DOMAIN
        JITSI_APP_ID = APP_ID
        JITSI_APP_SECRET = "0123456789abcdef0123456789abcdef"

    for key, value in settings.items():
        setattr(Hosted, key, value)
    return Hosted


@pytest.mark.parametrize(
    "settings, words",
    [
        ({"JITSI_APP_SECRET": "too-short"}, "JITSI_APP_SECRET must be at least 32 bytes"),
        ({"JITSI_APP_SECRET": None}, "JITSI_APP_SECRET is not set"),
        ({"JITSI_APP_ID": None}, "JITSI_APP_ID is not set"),
        (
            {"JITSI_DOMAIN": None, "JITSI_JAAS_TENANT": "vpaas-magic-cookie-x"},
            "JITSI_JAAS_KEY_ID is not set",
        ),
    ],
)
def test_the_app_refuses_to_start_with_unusable_jitsi_settings(config_class, settings, words):
    with pytest.raises(ConfigError) as refused:
        create_app(_hosted(config_class, **settings))
    assert words in str(refused.value)
    assert "too-short" not in str(refused.value)


def test_good_jitsi_settings_start(config_class):
    assert create_app(_hosted(config_class)).config["JITSI_APP_ID"] == APP_ID


def _run(tmp_path, *args, secret="too-short"):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "REDIS_URL": TEST_REDIS_URL,
        "INSTANCE_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 32,
        "JITSI_DOMAIN": "127.0.0.1:9",  # nothing listens: check fails fast on the script too
        "JITSI_APP_ID": APP_ID,
        "JITSI_APP_SECRET": secret,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_server_entry_point_refuses_a_short_secret_naming_the_rule(tmp_path):
    result = _run(tmp_path, "-c", "import wsgi")
    assert result.returncode != 0
    assert "JITSI_APP_SECRET must be at least 32 bytes" in result.stderr
    assert "too-short" not in result.stderr + result.stdout


def test_flask_jitsi_check_says_the_same(tmp_path):
    result = _run(tmp_path, "-m", "flask", "--app", "wsgi", "jitsi", "check")
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "JITSI_APP_SECRET must be at least 32 bytes" in out
    assert "Traceback" not in out and "too-short" not in out
    assert "mode:        selfhosted" in result.stdout
