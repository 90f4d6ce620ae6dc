"""What must never be committed: virtual environments, node_modules, instance data, databases,
recordings (a worktree's `.venv` symlink was once committed and replaced the real one on
checkout; `.venv/` in .gitignore matched only directories)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEVER = (".venv", "venv", "node_modules", "instance")
NEVER_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".mp4", ".mo", ".pyc")


def _tracked() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [p for p in out.decode().split("\0") if p]


def test_no_environment_data_or_build_output_is_tracked():
    bad = [
        path for path in _tracked() if path.split("/")[0] in NEVER or path.endswith(NEVER_SUFFIXES)
    ]
    assert bad == []


def test_gitignore_covers_a_symlinked_venv_and_node_modules():
    lines = (ROOT / ".gitignore").read_text().splitlines()
    # Without a trailing slash: a pattern "x/" matches only a directory, not a symlink.
    assert ".venv" in lines and "node_modules" in lines
