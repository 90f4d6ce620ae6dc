"""Browser tests: Debian's Chromium driven by Playwright against the app served by gunicorn.

See tests/e2e/README.md for how the pieces fit. In short:
- `live_server` (session): gunicorn on a free loopback port, on the same test database (built by
  the migrations in tests/conftest.py) and the same Redis database as the rest of the suite,
  with JITSI_DOMAIN set to a name that only exists in these tests.
- `browser` (session): /usr/bin/chromium, headless, fake camera and microphone.
- `e2e` (per test): opens one browser context per person (candidate, assistant, examiners...),
  answers the page's request for https://<JITSI_DOMAIN>/external_api.js with the stand-in in
  stand_in/, refuses every request to any other host and fails the test if there was one.
Data is seeded per test with the app's own functions, through the `app` fixture, which also
empties the tables and flushes Redis afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import db
from tests.conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
STAND_IN = Path(__file__).resolve().parent / "stand_in" / "external_api.js"
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-background-networking",
]

# A domain that exists nowhere: the stand-in answers for it inside the test browser only.
JITSI_DOMAIN = "jitsi.e2e.test"
JITSI_APP_ID = "interview-room-e2e"
JITSI_APP_SECRET = "e2e-only-secret-0123456789abcdef0123456789"
# The Jibri finalize notice is signed with this (tests/e2e/test_recording_playback.py).
JIBRI_WEBHOOK_SECRET = "e2e-only-jibri-webhook-secret-0123456789"
# Production's rules apply to the live server (app/production_settings.py): 32 bytes or more.
E2E_SECRET_KEY = "e2e-only-secret-key-0123456789abcdef0123456789"

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}

# Generous but finite: the machine has 2 shared cores, and a poll runs every 2 s.
EXPECT_TIMEOUT_MS = 15_000


def _required() -> bool:
    """In CI (.ci/run sets E2E_REQUIRED=1) a missing browser is a failure, elsewhere a skip."""
    return os.environ.get("E2E_REQUIRED", "") not in ("", "0") or bool(os.environ.get("CI"))


def _screenshots_wanted() -> bool:
    return os.environ.get("SCREENSHOTS", "") not in ("", "0")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"gunicorn did not answer {url} within {seconds} s:\n{log.read_text()[-4000:]}"
    )


@pytest.fixture(scope="session")
def config_class(config_class):
    """The tests' own app (which seeds and acts as staff) shares the server's SECRET_KEY, as every
    node of a deployment must: what it keys (a pulse's wake tag, app/day/pulse.py) then matches
    what the pages were given."""

    class E2EConfig(config_class):
        SECRET_KEY = E2E_SECRET_KEY

    return E2EConfig


@pytest.fixture(scope="session")
def live_server(database_uri, _schema, tmp_path_factory):
    """The app under gunicorn, as in production, on 127.0.0.1:<free port>."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    log = instance / "gunicorn.log"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_uri,
        "REDIS_URL": TEST_REDIS_URL,
        "SECRET_KEY": E2E_SECRET_KEY,
        "INSTANCE_DIR": str(instance),
        "RECORDINGS_DIR": str(instance / "recordings"),
        "JITSI_DOMAIN": JITSI_DOMAIN,
        "JITSI_APP_ID": JITSI_APP_ID,
        "JITSI_APP_SECRET": JITSI_APP_SECRET,
        "JIBRI_WEBHOOK_SECRET": JIBRI_WEBHOOK_SECRET,
        "SESSION_COOKIE_SECURE": "0",
        "PROXY_COUNT": "0",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_THREADS": "8",
        "GUNICORN_ACCESS_LOG": str(instance / "access.log"),
    }
    for name in (
        "JITSI_JAAS_TENANT",
        "JITSI_JAAS_KEY_ID",
        "JITSI_JAAS_PRIVATE_KEY_FILE",
        "JITSI_AUDIENCE",
    ):
        env.pop(name, None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base_url}/healthz", process, log)
        yield LiveServer(base_url=base_url, log=log, instance=instance)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    log: Path
    instance: Path

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc

    def wait_until_quiet(self, quiet_seconds: float = 0.6, at_most: float = 8.0) -> None:
        """Until the access log has not grown for `quiet_seconds` (it logs each finished request)."""
        access = self.instance / "access.log"
        deadline = time.monotonic() + at_most
        size, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            now_size = access.stat().st_size if access.exists() else 0
            if now_size != size:
                size, since = now_size, time.monotonic()
            elif time.monotonic() - since >= quiet_seconds:
                return
            time.sleep(0.1)

    def errors(self) -> str:
        """Tracebacks gunicorn printed (a 500 in a page is a test failure)."""
        text = self.log.read_text(errors="replace")
        return text if "Traceback" in text else ""


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        reason = (
            f"{CHROMIUM} is not installed (Debian: apt-get install -y --no-install-recommends "
            "chromium); browser tests skipped"
        )
        if _required():
            pytest.fail(reason + " — but E2E_REQUIRED/CI is set, so this is a failure")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Session:
    """One test's browsers: a context per person, every request recorded."""

    browser: object
    server: LiveServer
    contexts: list = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    # (url, status, Cache-Control) of every /static/ answer: a page must get all its files.
    static: list[tuple[str, int, str]] = field(default_factory=list)
    expected_console: list[str] = field(
        default_factory=list
    )  # a test that breaks things on purpose

    def _route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.netloc == self.server.netloc:
            route.continue_()
        elif parts.hostname == JITSI_DOMAIN and parts.path == "/external_api.js":
            route.fulfill(path=str(STAND_IN), content_type="application/javascript; charset=utf-8")
        else:
            self.foreign.append(url)
            route.abort("blockedbyclient")

    def _record_static(self, response) -> None:
        parts = urlsplit(response.url)
        if parts.netloc == self.server.netloc and parts.path.startswith("/static/"):
            cache = response.headers.get("cache-control", "")
            self.static.append((parts.path, response.status, cache))

    def new_page(
        self, name: str, *, viewport: dict | None = None, chrome: bool = True, mobile: bool = False
    ):
        """A fresh browser context (its own cookies) with one page, as person `name`.

        `chrome=True` makes the page look like desktop Google Chrome to the page's browser check
        (Debian's Chromium brands itself "Chromium"), as a real candidate's would.
        """
        context = self.browser.new_context(
            base_url=self.server.base_url,
            viewport=viewport or DESKTOP,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            permissions=["camera", "microphone"],
            is_mobile=mobile,
            has_touch=mobile,
        )
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        context.route("**/*", self._route)
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("response", self._record_static)
        context.add_init_script(script=_COUNT_SOUNDS)
        if chrome and not mobile:
            context.add_init_script(script=_LOOKS_LIKE_CHROME)
        page = context.new_page()
        page.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and self.console_errors.append(
                    f"{name}: {msg.text} [{msg.location.get('url')}:{msg.location.get('lineNumber')}"
                    f" on {page.url}]"
                )
            ),
        )
        page.on("pageerror", lambda err: self.console_errors.append(f"{name}: {err}"))
        # "确定结束面试吗？" and the like: people press OK (Playwright would press Cancel).
        page.on("dialog", lambda dialog: dialog.accept())
        self.contexts.append(context)
        return page

    def close(self) -> None:
        for context in self.contexts:
            try:
                context.close()
            except Exception:
                pass
        self.contexts.clear()

    def hosts(self) -> set[str]:
        return {
            urlsplit(url).netloc
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https")
        }


_LOOKS_LIKE_CHROME = """
(() => {
  const brands = [{brand: 'Google Chrome', version: '140'}, {brand: 'Chromium', version: '140'}];
  const data = {brands, mobile: false, platform: 'Windows'};
  try { Object.defineProperty(Navigator.prototype, 'userAgentData', {get: () => data, configurable: true}); } catch (e) {}
})();
"""


# Headless Chromium plays sound into nothing: count the tones the page starts instead.
_COUNT_SOUNDS = """
(() => {
  window.__tones = 0;
  const Ctor = window.AudioContext || window.webkitAudioContext;
  if (!Ctor) return;
  const original = Ctor.prototype.createOscillator;
  Ctor.prototype.createOscillator = function () { window.__tones += 1; return original.apply(this, arguments); };
})();
"""


@pytest.fixture
def e2e(browser, app, live_server):
    session = Session(browser=browser, server=live_server)
    yield session
    session.close()
    # Closing a page sends its last beacons (call left, page hidden); let the server finish them
    # before the `app` fixture empties the tables under it.
    live_server.wait_until_quiet()
    assert not session.foreign, (
        f"requests to hosts other than the app and the stand-in: {session.foreign}"
    )
    assert session.hosts() <= {live_server.netloc, JITSI_DOMAIN}, session.hosts()
    # "Failed to load resource" is expected in the console (refusals): a missing script is not.
    missing = [answer for answer in session.static if answer[1] >= 400]
    assert not missing, f"static files the pages could not load: {missing}"
    # A CSP violation (inline script or style), a script error: the console says so.
    # Refusals are 409/422 answers by design; Chromium and htmx log each of them.
    # A poll cut short by a click (hx-sync replace) is logged too, as sendAbort + afterRequest.
    expected = (
        "Failed to load resource",
        "Response Status Error Code 4",
        "htmx:sendAbort",
        "htmx:afterRequest",
        *session.expected_console,
    )
    broken = [line for line in session.console_errors if not any(e in line for e in expected)]
    assert not broken, "errors in the browser console:\n" + "\n".join(broken)
    errors = live_server.errors()
    assert not errors, f"the server logged a traceback:\n{errors[-4000:]}"


def fresh(model, ident):
    """The row as the server left it (the test's own session may hold an older copy)."""
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(model, ident)


def shot(page, name: str) -> Path | None:
    """Screenshot into docs/screenshots/<name>.png when SCREENSHOTS=1 (see README there)."""
    if not _screenshots_wanted():
        return None
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    # Let a swap or a transition finish. caret="initial" and no animations="disabled": otherwise
    # Playwright injects a style, which the app's CSP rightly refuses (the console check fails).
    page.wait_for_timeout(400)
    page.screenshot(path=str(path), full_page=False, caret="initial")
    return path


def jitsi_calls(page) -> list[dict]:
    return page.evaluate("() => JSON.parse(JSON.stringify(window.__jitsiCalls || []))")


def dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)
