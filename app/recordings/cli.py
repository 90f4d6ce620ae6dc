"""`flask --app wsgi recordings ...`: what operators need when the page is not at hand."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app import db
from app.models import Recording
from app.recordings.pulls import retry_recording

recordings_cli = AppGroup("recordings", help="List recordings, retry failed pulls.")


@recordings_cli.command("list")
@click.option(
    "--status",
    type=click.Choice(["waiting", "pulling", "stored", "failed"]),
    help="Only recordings with this status.",
)
def list_command(status: str | None) -> None:
    """One line per recording: id, status, bytes pulled/expected, exam, candidate, file, error."""
    query = select(Recording).order_by(Recording.id)
    if status:
        query = query.where(Recording.status == status)
    for r in db.session.scalars(query):
        click.echo(
            f"{r.id}\t{r.status}\t{r.bytes_pulled or 0}/{r.expected_size}\texam={r.exam_id or '-'}"
            f"\tcandidate={r.candidate_id or '-'}\t{r.session_folder}/{r.file_name}"
            + (f"\t{r.error}" if r.error else "")
        )


@recordings_cli.command("retry")
@click.argument("recording_ids", type=int, nargs=-1)
@click.option("--all-failed", is_flag=True, help="Every failed recording.")
def retry_command(recording_ids: tuple[int, ...], all_failed: bool) -> None:
    """Queue failed pulls again (fresh retries), as the page's retry button does."""
    if all_failed:
        recording_ids = tuple(
            db.session.scalars(select(Recording.id).where(Recording.status == "failed"))
        )
    if not recording_ids:
        raise click.ClickException("name recording ids or use --all-failed")
    refused = 0
    for rid in recording_ids:
        recording = db.session.get(Recording, rid)
        if recording is None or recording.status != "failed":
            click.echo(
                f"{rid}: not a failed recording ({recording.status if recording else 'no such id'})",
                err=True,
            )
            refused += 1
            continue
        retry_recording(recording)
        click.echo(f"{rid}: queued again")
    if refused:
        raise SystemExit(1)
