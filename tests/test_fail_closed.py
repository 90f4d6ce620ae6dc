"""Issue 18, Deliver 1: production fails closed. Before, a node started without DATABASE_URL,
REDIS_URL, SECRET_KEY or JITSI_DOMAIN quietly ran on SQLite, an embedded Redis of its own, a
key file of its own and the public meet.jit.si. Now it refuses, naming each setting; `make run`
(INTERVIEW_ROOM_ENV=development) and the tests (TESTING) still start with none of them."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.config import Config
from app.devserver import demo_summary
from app.production_settings import problems
from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "JITSI_DOMAIN", "JIBRI_WEBHOOK_SECRET")
GOOD = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/never_connected",
    "REDIS_URL": TEST_REDIS_URL,
    "SECRET_KEY": "s" * 32,
    "JITSI_ALLOW_PUBLIC": "1",
    "JIBRI_WEBHOOK_SECRET": "w" * 32,
}


def _environment(tmp_path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JITSI_", "JIBRI_"))}
    for name in (*SETTINGS, "INTERVIEW_ROOM_ENV"):
        env.pop(name, None)
    env["INSTANCE_DIR"] = str(tmp_path / "instance")
    env.update({k: v for k, v in settings.items() if v is not None})
    return env


def _start(tmp_path, *args, **settings) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *(args or ("-c", "import wsgi"))],
        cwd=ROOT,
        env=_environment(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_with_nothing_set_refuses_naming_every_setting_on_its_own_line(tmp_path):
    result = _start(tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    for name in SETTINGS:
        assert sum(line.strip().startswith(name) for line in lines) == 1, (name, result.stderr)
    assert "Traceback" not in result.stderr
    # Refused before it made anything: no SQLite file, no key file, no embedded Redis.
    instance = tmp_path / "instance"
    assert not instance.exists() or not any(instance.iterdir())


@pytest.mark.parametrize(
    "change, words",
    [
        ({"DATABASE_URL": "sqlite:////tmp/x.db"}, "DATABASE_URL must name a PostgreSQL database"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter than 32 bytes"),
        ({"JITSI_ALLOW_PUBLIC": None}, "JITSI_DOMAIN is not set"),
        ({"JITSI_ALLOW_PUBLIC": None, "JITSI_DOMAIN": "meet.example.org"}, "JITSI_APP_ID"),
        ({"JIBRI_WEBHOOK_SECRET": None}, "JIBRI_WEBHOOK_SECRET is not set"),
    ],
)
def test_each_unsafe_setting_alone_is_named(tmp_path, change, words):
    result = _start(tmp_path, **{**GOOD, **change})
    assert result.returncode == 2
    assert words in result.stderr
    assert "short" not in result.stderr.replace("shorter", "")  # a secret is never echoed


def test_production_with_every_setting_starts(tmp_path):
    result = _start(tmp_path, **GOOD)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_worker_refuses_too_while_operator_commands_only_warn(tmp_path):
    worker = _start(tmp_path, "-m", "flask", "--app", "wsgi", "worker", "--burst")
    assert worker.returncode == 2
    assert "REDIS_URL is not set" in worker.stderr
    routes = _start(tmp_path, "-m", "flask", "--app", "wsgi", "routes")
    assert routes.returncode == 0
    assert "warning: REDIS_URL is not set" in routes.stderr


def test_development_and_tests_need_none_of_it(tmp_path, config_class):
    result = _start(tmp_path, INTERVIEW_ROOM_ENV="development", REDIS_URL=TEST_REDIS_URL)
    assert result.returncode == 0, result.stderr
    assert problems({"TESTING": True}) != []  # the rules still apply; TESTING only skips them
    assert config_class.TESTING


def test_the_problems_are_read_from_the_config_and_the_environment():
    class Production(Config):
        SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://db/x"
        REDIS_URL = "redis://r/0"
        SECRET_KEY = "k" * 40
        JITSI_DOMAIN = "meet.example.org"
        JITSI_APP_ID = "interview-room"
        JITSI_APP_SECRET = "a" * 32
        JIBRI_WEBHOOK_SECRET = "j" * 32

    config = {k: getattr(Production, k) for k in dir(Production) if k.isupper()}
    assert problems(config, {"DATABASE_URL": "postgresql://db/x"}) == []
    assert problems(config, {}) == [
        "DATABASE_URL is not set: production runs on PostgreSQL (postgresql://...)"
    ]


def test_the_demo_summary_lists_every_code_grouped_by_exam():
    summary = {
        "exams": [
            {"id": 1, "name": "正式面试", "kind": "formal"},
            {"id": 2, "name": "模拟面试", "kind": "mock"},
        ],
        "staff": [{"username": "hr1", "password": "pw", "role": "hr"}],
        "candidates": [
            {"name": "甲", "code": "111111", "exam_id": 1, "panel": "第一考场"},
            {"name": "乙", "code": "222222", "exam_id": 2, "panel": "模拟考场"},
            {"name": "丙", "code": "333333", "exam_id": 1, "panel": "第二考场"},
        ],
    }
    text = demo_summary(summary)
    formal, mock = text.index("正式 正式面试"), text.index("模拟 模拟面试")
    assert formal < text.index("111111") < text.index("333333") < mock < text.index("222222")


def _processes_mentioning(marker: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in blob:
            found.append(f"{proc.name}: {(proc / 'cmdline').read_bytes()[:120]!r}")
    return found


@pytest.mark.postgres_pass
def test_ctrl_c_on_make_run_leaves_no_process_behind(tmp_path):
    port = _free_port()
    instance = tmp_path / "run-instance"
    env = _environment(tmp_path)
    env.pop("MAKEFLAGS", None)
    env.update({"INSTANCE_DIR": str(instance), "PORT": str(port)})
    run = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives it
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", run)
        assert _processes_mentioning(str(instance)), "nothing of make run found to watch"
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
        output, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _processes_mentioning(str(instance)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_mentioning(str(instance)) == []
    assert re.search(r"正式 .*\(exam \d+\): candidate codes", output), output[-2000:]
    assert "embedded Redis at" in output


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make run exited: {process.stdout.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {seconds} s")
