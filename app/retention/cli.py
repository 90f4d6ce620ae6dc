"""`flask --app wsgi retention purge [--dry-run] [--exam ID]`: run from cron, once a day."""

import click
from flask.cli import AppGroup

from app.retention.purge import Planned, plan, purge
from app.timeutil import format_beijing, utcnow

retention_cli = AppGroup(
    "retention", help="Delete stored personal data past each exam's retention."
)


def _line(planned: Planned, verb: str) -> str:
    item = planned.item
    who = f" candidate {item.candidate_id}" if item.candidate_id else ""
    files = " ".join(str(p) for p in item.files) or "(no file left)"
    return (
        f"{verb}\t{item.kind}\texam {item.exam_id}\t{item.record}{who}\t{item.size} bytes\t{files}"
    )


def _held(planned: Planned) -> str:
    why = ", ".join(f"candidate {cid} {reason}" for cid, reason in sorted(planned.held.items()))
    return f"{_line(planned, 'kept')}\tunder review: {why}"


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="List exactly what would go; delete nothing.")
@click.option("--exam", "exam_id", type=int, help="Only this exam.")
def purge_command(dry_run: bool, exam_id: int | None) -> None:
    """Delete recordings, ID photos and evidence images each exam keeps no longer.

    Nothing of a candidate under review (disqualified or with violations flagged and the review
    not closed, or held for an open dispute) is touched. Every deletion is audited."""
    now = utcnow()
    if dry_run:
        going = kept = size = 0
        for entry in plan(now, exam_id):
            if not entry.due_reached:
                click.echo(
                    f"not yet\t{entry.kind.name}\texam {entry.exam.id}\tkept"
                    f" {entry.days} days, until {format_beijing(entry.due)} (Beijing time)"
                )
                continue
            for planned in entry.items:
                if planned.held:
                    kept += 1
                    click.echo(_held(planned))
                else:
                    going += 1
                    size += planned.item.size
                    click.echo(_line(planned, "would purge"))
        click.echo(
            f"dry run: {going} items would be purged ({size} bytes), {kept} kept under review;"
            " nothing was deleted"
        )
        return
    outcomes = purge(now, exam_id=exam_id)
    for outcome in outcomes:
        if outcome.done == "kept":
            click.echo(_held(outcome.planned))
        elif outcome.done == "purged":
            click.echo(_line(outcome.planned, "purged"))
    failed = [o for o in outcomes if o.done == "failed"]
    for outcome in failed:
        click.echo(f"{_line(outcome.planned, 'FAILED')}\t{outcome.note}", err=True)
    purged = [o for o in outcomes if o.done == "purged"]
    click.echo(
        f"purged {len(purged)} items ({sum(o.planned.item.size for o in purged)} bytes),"
        f" {len(outcomes) - len(purged) - len(failed)} kept under review, {len(failed)} failed"
    )
    if failed:
        raise SystemExit(1)
