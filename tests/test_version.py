"""The version (issue 18, deliverable 6): written once, shown where operators and staff look, and
CHANGELOG.md says what each release brought, down to the database revision it ends on."""

import re
import tomllib
from pathlib import Path

from packaging.version import Version

from app import __version__
from tests.factories import gen_user

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
RELEASE = re.compile(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", re.MULTILINE)


def test_the_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "app.__version__"}
    assert str(Version(__version__)) == __version__  # PEP 440, as written


def test_the_changelog_has_the_version_and_releases_newest_first():
    assert CHANGELOG.count("## [Unreleased]") == 1
    assert CHANGELOG.index("## [Unreleased]") < RELEASE.search(CHANGELOG).start()
    releases = [Version(number) for number, _ in RELEASE.findall(CHANGELOG)]
    dates = [date for _, date in RELEASE.findall(CHANGELOG)]
    assert releases == sorted(releases, reverse=True) and len(set(releases)) == len(releases)
    assert dates == sorted(dates, reverse=True)
    running = Version(__version__)
    if running.is_prerelease:
        # Between releases: the next one's number, above every release written down.
        assert running > releases[0], (running, releases[0])
    else:
        assert running == releases[0], "a release is the changelog's newest"


def test_every_migration_is_in_the_changelog():
    """An operator reads from the changelog which release migrates, and what to downgrade to."""
    revisions = [
        re.search(r"^revision = ['\"](\w+)['\"]", path.read_text(), re.MULTILINE).group(1)
        for path in sorted((ROOT / "migrations" / "versions").glob("*.py"))
    ]
    assert revisions
    missing = [revision for revision in revisions if f"`{revision}`" not in CHANGELOG]
    assert missing == [], "name each new migration under the release that brings it"


def test_staff_pages_show_the_version_and_candidate_pages_do_not(app, client, staff):
    footer = '<footer class="staff-footer">'
    assert __version__ not in client.get("/").get_data(as_text=True)  # the candidate's code page
    gen_user("hr1", role="hr")
    assert staff.login("hr1").status_code == 302
    page = client.get("/hr/exams").get_data(as_text=True)
    assert f"{footer}在线面试 {__version__}</footer>" in page
