"""Commands for operators testing their Jitsi setup (see jitsi/README.md).

    flask --app wsgi jitsi-token --room ROOM --name NAME [--moderator] [--ttl SECONDS]
    flask --app wsgi jitsi check

Neither ever prints the shared secret or the private key; `check` says only whether they are set.
"""

import sys

import click
import requests
from flask import Flask, current_app
from flask.cli import AppGroup

from app.jitsi.tokens import ConfigError, JitsiSettings, mint_token

CHECK_TIMEOUT_SECONDS = 5
# The name the script defines; every version of external_api.js contains it.
API_MARKER = "JitsiMeetExternalAPI"

jitsi_cli = AppGroup("jitsi", help="Check the Jitsi settings of this app.")


def _settings() -> JitsiSettings:
    return JitsiSettings.from_config(current_app.config)


@click.command("jitsi-token")
@click.option("--room", required=True, help="Exact room name, e.g. ir-e1-<32 hex digits>.")
@click.option("--name", required=True, help="Display name in the call, e.g. 'IT support'.")
@click.option("--moderator", is_flag=True, help="Moderator rights (staff).")
@click.option("--recording", is_flag=True, help="Recording rights too (needs --moderator).")
@click.option("--ttl", type=int, default=3600, show_default=True, help="Lifetime in seconds.")
@click.option("--user-id", default="operator", show_default=True, help="context.user.id")
def token_command(
    room: str, name: str, moderator: bool, recording: bool, ttl: int, user_id: str
) -> None:
    """Print a JWT for ROOM, to join it by hand: https://DOMAIN/ROOM?jwt=TOKEN"""
    settings = _settings()
    if settings.mode == "dev":
        click.echo(
            "JITSI_DOMAIN is not set: development mode on meet.jit.si uses no tokens "
            "(calls are NOT secured). Set JITSI_DOMAIN and the JITSI_APP_* settings first.",
            err=True,
        )
        sys.exit(1)
    try:
        token = mint_token(
            settings,
            room=room,
            user_id=user_id,
            name=name,
            moderator=moderator,
            recording=recording,
            ttl_seconds=ttl,
        )
    except (ConfigError, ValueError, TypeError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(token)


@jitsi_cli.command("check")
def check_command() -> None:
    """Report the Jitsi mode and settings, and whether external_api.js answers."""
    settings = _settings()
    problems: list[str] = []
    click.echo(f"mode:        {settings.mode}")
    click.echo(f"domain:      {settings.domain}")
    if settings.mode == "dev":
        problems.append(
            "development mode: public meet.jit.si without tokens, calls are NOT secured "
            "(set JITSI_DOMAIN for a self-hosted Jitsi, or JITSI_JAAS_TENANT for 8x8 JaaS)"
        )
    elif settings.mode == "selfhosted":
        click.echo(f"app id:      {settings.app_id or '(not set)'}")
        click.echo(f"audience:    {settings.audience or settings.app_id or '(not set)'}")
        click.echo(f"sub:         {settings.token_sub}")
        click.echo(f"app secret:  {'set' if settings.app_secret else 'NOT SET'}")
    else:
        click.echo(f"tenant:      {settings.jaas_tenant}")
        click.echo(f"key id:      {settings.jaas_key_id or '(not set)'}")
        key_file = settings.jaas_private_key_file
        click.echo(
            f"private key: {'set' if key_file else 'NOT SET'}"
            + (f" ({key_file})" if key_file else "")
        )
    try:
        settings.validate()
    except ConfigError as exc:
        problems.append(str(exc))

    url = settings.external_api_url
    try:
        response = requests.get(url, timeout=CHECK_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        problems.append(f"{url} did not answer: {type(exc).__name__}: {str(exc)[:300]}")
        click.echo(f"external_api.js: FAILED ({url})")
    else:
        with response:
            status = response.status_code
            body = response.text if status == 200 else ""
        if status != 200:
            problems.append(f"{url} answered HTTP {status}")
            click.echo(f"external_api.js: FAILED, HTTP {status} ({url})")
        elif API_MARKER not in body:
            # A proxy's or captive portal's page answers 200 too: the browser would get no API.
            problems.append(
                f"{url} answered HTTP 200 but not with the IFrame API ({API_MARKER} missing)"
            )
            click.echo(f"external_api.js: FAILED, not the IFrame API ({url})")
        else:
            click.echo(f"external_api.js: OK, HTTP 200 ({url})")

    if problems:
        click.echo("problems:")
        for problem in problems:
            click.echo(f"  - {problem}")
        sys.exit(1)
    click.echo("ok: tokens can be minted and the IFrame API script is reachable")


def register_jitsi_cli(app: Flask) -> None:
    app.cli.add_command(token_command)
    app.cli.add_command(jitsi_cli)
