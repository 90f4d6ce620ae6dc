"""Command line: `flask --app wsgi <command>`."""

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import db
from app.backup.cli import backup_cli
from app.exports import csv_text
from app.jitsi.cli import register_jitsi_cli
from app.jobs.worker import run_worker
from app.models import Exam
from app.production_settings import enforce
from app.recordings.cli import recordings_cli
from app.retention.cli import retention_cli
from app.scoring.results import results_csv, results_xlsx
from app.setup.demo import DemoExists, seed_demo
from app.setup.roster import import_candidates
from app.setup.slips import SLIP_HEADER, slip_rows

candidates_cli = AppGroup("candidates", help="Import candidates and list their codes.")


def _exam_or_exit(exam_id: int) -> Exam:
    exam = db.session.get(Exam, exam_id)
    if exam is None:
        raise click.ClickException(f"no exam with id {exam_id}")
    return exam


@candidates_cli.command("import")
@click.argument("exam_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(exam_id: int, file: Path) -> None:
    """Import FILE (CSV in UTF-8/GBK, or XLSX) into EXAM_ID: every row, or none."""
    exam = _exam_or_exit(exam_id)
    report = import_candidates(exam, file.name, file.read_bytes())
    if not report.ok:
        click.echo(f"{file}: refused, nothing imported ({len(report.errors)} problems):", err=True)
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        sys.exit(1)
    click.echo(f"imported {len(report.rows)} candidates into exam {exam.id} ({exam.name})")


@candidates_cli.command("codes")
@click.argument("exam_id", type=int)
def codes_command(exam_id: int) -> None:
    """Print the code slips of EXAM_ID as CSV on stdout."""
    exam = _exam_or_exit(exam_id)
    # For a terminal or a pipe: no BOM, and the lines end as the shell's do.
    sys.stdout.write(csv_text(SLIP_HEADER, slip_rows(exam), lineterminator="\n"))


@click.command("seed-demo")
@click.option("--json", "as_json", is_flag=True, help="Print what was created as JSON.")
def seed_demo_command(as_json: bool) -> None:
    """Create demo exams, panels, staff and candidates (only into an empty database)."""
    try:
        summary = seed_demo()
    except DemoExists as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        for exam in summary["exams"]:
            click.echo(f"exam {exam['id']}: {exam['name']} ({exam['kind']})")
        for person in summary["staff"]:
            click.echo(f"staff {person['username']} / {person['password']} ({person['role']})")
        for cand in summary["candidates"][:5]:
            click.echo(f"candidate {cand['name']}: code {cand['code']} (exam {cand['exam_id']})")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run the RQ worker inside the app (with the scheduler, for retries and periodic jobs)."""
    enforce(current_app.config)
    run_worker(burst=burst)


results_cli = AppGroup("results", help="Export scores and ranks.")


@results_cli.command("export")
@click.argument("exam_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def results_export_command(exam_id: int, fmt: str, output: Path | None) -> None:
    """Every candidate of EXAM_ID with each examiner's total, the final score and the rank per position."""
    exam = _exam_or_exit(exam_id)
    data = results_csv(exam) if fmt == "csv" else results_xlsx(exam)
    if output is not None:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def register_cli(app: Flask) -> None:
    app.cli.add_command(candidates_cli)
    app.cli.add_command(results_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(recordings_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(retention_cli)
    register_jitsi_cli(app)
