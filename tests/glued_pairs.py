"""Finds "中文 English" pairs glued by hand: text a person reads that says a thing in Chinese and
then again in English (issue 17). Such text goes through gettext instead: an English msgid with
its Chinese in app/translations/zh_CN.

What counts: within one run of visible text (a template's text between tags and Jinja, one of
the attributes a person reads, one Python string literal, or one string literal of a script), a Chinese character and an English
word of two or more letters that is not a name (Jitsi, Chrome) or an acronym (XLSX, ID, HR).

Run it as `python -m tests.glued_pairs [PATH...]` to list what is left.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD = re.compile(r"(?<![A-Za-z0-9_.\-/@:])[A-Za-z][a-z]+(?:['\u2019][a-z]+)?(?![A-Za-z0-9_\-/@])")
# Names that Chinese text uses as they are.
NAMES = frozenset(
    [
        "Chrome",
        "Chromium",
        "Jitsi",
        "Jibri",
        "Meet",
        "Excel",
        "Redis",
        "Prometheus",
        "Grafana",
        "Safari",
        "Edge",
        "Firefox",
        "Windows",
        "Android",
        "Wi",
        "Fi",
        "WiFi",
        "Interview",
        "Room",
        "Word",
        "Python",
        "Flask",
        "Jinja",
        "Babel",
        "PostgreSQL",
        "SQLite",
        "Linux",
        "Ubuntu",
        "Debian",
        "Docker",
        "Gunicorn",
        "Nginx",
        "Ctrl",
        "Shift",
        "Alt",
        "Enter",
        "Tab",
        "Esc",
        "Chinese",
        "English",
    ]
)
# Attributes whose values a person reads.
READ_ATTRIBUTES = ("title", "placeholder", "alt", "aria-label", "hx-confirm", "data-confirm")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.S)
ATTRIBUTE = re.compile(r"""\b(""" + "|".join(READ_ATTRIBUTES) + r""")\s*=\s*("[^"]*"|'[^']*')""")
INLINE_TAG = re.compile(r"</?(small|span|b|strong|em|i|code|abbr|kbd)\b", re.I)
SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)


def glued(text: str) -> bool:
    if not HAN.search(text):
        return False
    return any(word.group(0) not in NAMES for word in WORD.finditer(text))


def template_runs(source: str) -> list[tuple[int, str]]:
    """(line, text) for every run of visible text in a template."""
    runs: list[tuple[int, str]] = []

    def line_of(offset: int) -> int:
        return source.count("\n", 0, offset) + 1

    # A value ({{ n }}) or an inline tag (<small>) sits inside one sentence: "考生 {{ n }} 名 {{ n }}
    # candidates" and "面试间 <small>Room</small>" are glued too. Statements ({% if %}) and other
    # tags separate runs.
    blanked = JINJA.sub(
        lambda m: (
            ("0" if m.group(0).startswith("{{") else "\u00b7") + "\n" * m.group(0).count("\n")
        ),
        source,
    )
    blanked = SCRIPT_OR_STYLE.sub(lambda m: "\n" * m.group(0).count("\n"), blanked)
    for tag in TAG.finditer(blanked):
        for attribute in ATTRIBUTE.finditer(tag.group(0)):
            runs.append((line_of(tag.start()), attribute.group(2)[1:-1]))
    text = TAG.sub(
        lambda m: (
            (" " if INLINE_TAG.match(m.group(0)) else "\u00b7") + "\n" * m.group(0).count("\n")
        ),
        blanked,
    )
    offset = 0
    for number, line in enumerate(text.split("\n"), start=1):
        for piece in line.split("\u00b7"):
            if piece.strip():
                runs.append((number, piece))
        offset += len(line) + 1
    return runs


def python_runs(source: str) -> list[tuple[int, str]]:
    runs = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            runs.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            # A value inside an f-string sits inside its sentence ("已导入 {n} 名 {n} imported").
            parts = [v.value if isinstance(v, ast.Constant) else "0" for v in node.values]
            runs.append((node.lineno, "".join(parts)))
    # A docstring or comment explains the code to its readers: not a page's text.
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(body[0].value.lineno)
    return [(line, text) for line, text in runs if line not in docstrings]


JS_COMMENT = re.compile(r"/\*.*?\*/|(?<![:\"'\\])//[^\n]*", re.S)
JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`(?:[^`\\]|\\.)*`')


def script_runs(source: str) -> list[tuple[int, str]]:
    """Every string literal of a script (comments left out): what a script writes into a page."""
    blanked = JS_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    return [
        (blanked.count("\n", 0, m.start()) + 1, m.group(0)[1:-1])
        for m in JS_STRING.finditer(blanked)
    ]


def find_glued(paths: list[Path]) -> list[str]:
    found = []
    for base in paths:
        files = [base] if base.is_file() else sorted(base.rglob("*"))
        for path in files:
            if path.suffix == ".html":
                runs = template_runs(path.read_text(encoding="utf-8"))
            elif path.suffix == ".py":
                runs = python_runs(path.read_text(encoding="utf-8"))
            elif path.suffix == ".js" and not path.name.endswith(".min.js"):
                runs = script_runs(path.read_text(encoding="utf-8"))
            else:
                continue
            for line, text in runs:
                for piece in text.split("\u00b7"):
                    if glued(piece):
                        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                        found.append(f"{where}:{line}: {piece.strip()[:100]}")
    return found


if __name__ == "__main__":
    targets = [Path(p).resolve() for p in sys.argv[1:]] or [ROOT / "app"]
    hits = find_glued(targets)
    sys.stdout.write("".join(f"{hit}\n" for hit in hits))
    sys.stderr.write(f"{len(hits)} glued\n")
