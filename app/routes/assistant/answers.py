"""How the console words a move that worked on one candidate (the moves' modules share it)."""

from flask_babel import get_locale


def done_for(name: str, message: str) -> str:
    """The candidate's name, then what was done: "张三：已放行离场。" (a full-width colon in
    Chinese, the only part of the sentence that is not the message's own)."""
    locale = get_locale()
    colon = "：" if locale is None or locale.language == "zh" else ": "
    return f"{name}{colon}{message}"
