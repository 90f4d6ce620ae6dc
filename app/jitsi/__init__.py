"""Jitsi for every call: room names, settings, and per-person tokens. Pure: no Flask app needed."""

from app.jitsi.rooms import new_room_name
from app.jitsi.tokens import ConfigError, JitsiSettings, iframe_room_name, mint_token

__all__ = ["ConfigError", "JitsiSettings", "iframe_room_name", "mint_token", "new_room_name"]
