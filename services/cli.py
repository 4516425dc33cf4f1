"""The ``dx`` command: run the platform, serve one service, migrate, manage keys."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from libs.common.auth import Role
from libs.common.db import Database
from libs.common.errors import ProblemError
from libs.common.logs import configure_logging
from libs.common.settings import SERVICES, get_settings
from services import platform
from services.demo import run_demo
from services.gateway import keys
from services.notify.scheduler import SchedulerBusy

app = typer.Typer(
    help="DX Tracker: national digital-transformation indicators.", no_args_is_help=True
)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
reminders_app = typer.Typer(help="Reminders to agencies.", no_args_is_help=True)
app.add_typer(reminders_app, name="reminders")

SERVABLE = ("gateway", *SERVICES)


def _serve(application: object, *, service: str) -> None:
    settings = get_settings()
    configure_logging(service=service, level=settings.log_level, as_json=settings.log_json)
    uvicorn.run(
        application,  # type: ignore[arg-type]
        host=settings.host,
        port=settings.port,
        log_config=None,
        proxy_headers=True,
        access_log=False,
    )


@app.command()
def run() -> None:
    """Run the whole platform in this process (SQLite, in-process bus, mail to files)."""
    settings = get_settings()
    configure_logging(service="dx", level=settings.log_level, as_json=settings.log_json)
    platform.migrate(settings)
    _serve(platform.embedded_app(settings), service="dx")


@app.command()
def serve(service: Annotated[str, typer.Argument(help=" | ".join(SERVABLE))]) -> None:
    """Run one service of the cluster (PostgreSQL and Kafka by default)."""
    if service not in SERVABLE:
        raise typer.BadParameter(f"choose one of {', '.join(SERVABLE)}")
    _serve(platform.cluster_app(service, get_settings()), service=service)


@app.command()
def migrate(
    service: Annotated[list[str] | None, typer.Option(help="Only these services")] = None,
) -> None:
    """Apply database migrations (every service's, or the ones named)."""
    chosen = tuple(service) if service else platform.MIGRATED
    unknown = set(chosen) - set(platform.MIGRATED)
    if unknown:
        raise typer.BadParameter(f"unknown services: {', '.join(sorted(unknown))}")
    platform.migrate(get_settings(), chosen)
    typer.echo(f"migrated: {', '.join(chosen)}")


@app.command()
def seed() -> None:
    """Load the reference catalogue into the indicators service (once; cluster mode)."""
    settings = get_settings()
    platform.migrate(settings, ("indicators",))
    loaded = asyncio.run(platform.seed_indicators(settings))
    typer.echo("reference catalogue loaded" if loaded else "catalogue already present; unchanged")


@app.command()
def rescore() -> None:
    """Recompute every score, index and ranking from scoring's data (gives what events gave)."""
    settings = get_settings()
    platform.migrate(settings, ("scoring",))
    result = asyncio.run(platform.rescore_all(settings))
    typer.echo(
        f"{result.series} series, {result.periods} periods rescored; "
        f"{result.changes} scores changed"
    )


@app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX")],
    atomic: Annotated[bool, typer.Option(help="Keep nothing if any row is bad")] = False,
) -> None:
    """Import a sheet of values for the standing agency (columns: agency, period, indicator, value,
    note), printing a report per bad row; the running platform publishes what was accepted."""
    settings = get_settings()
    platform.migrate(settings, ("ingest",))
    try:
        report = asyncio.run(platform.import_sheet(settings, path.read_bytes(), atomic=atomic))
    except ProblemError as error:
        for item in error.errors or []:
            typer.echo(f"{' '.join(map(str, item.loc))}: {item.msg}", err=True)
        typer.echo(f"refused: {error.detail}", err=True)
        raise typer.Exit(code=1) from error
    for item in report.errors:
        typer.echo(f"row {item.loc[1]}, {item.loc[-1]}: {item.msg}", err=True)
    typer.echo(
        f"{report.accepted_rows} rows accepted in {len(report.submissions)} submissions, "
        f"{report.rejected_rows} rejected"
    )
    if report.rejected_rows:
        raise typer.Exit(code=1)


@app.command()
def demo(
    period: Annotated[
        str | None, typer.Option(help="e.g. 2023-S1; default: the latest period with scores")
    ] = None,
    program: Annotated[str | None, typer.Option(help="Only this programme's indicators")] = None,
) -> None:
    """Load a clearly labelled SYNTHETIC per-agency dataset into the platform (opt-in demo).

    In process, through ingest's import (no API key is made); the running platform stores it.
    Every value carries the source ``demo`` and a note saying it is synthetic.
    """
    settings = get_settings()
    platform.migrate(settings, ("ingest", "scoring"))
    try:
        report = asyncio.run(run_demo(settings, period=period, program=program))
    except (ValueError, ProblemError) as error:
        typer.echo(f"refused: {getattr(error, 'detail', error)}", err=True)
        raise typer.Exit(code=2) from error
    for reason in report.refused:
        typer.echo(f"  refused {reason}", err=True)
    typer.echo(
        f"SYNTHETIC demo data for {report.period}: {len(report.agencies)} agencies, "
        f"{report.rows} values in {len(report.submissions)} submissions, "
        f"{report.stored} stored, {len(report.refused)} refused"
    )
    typer.echo(f"see {settings.public_url}/rankings?period={report.period}")
    if report.refused or report.stored < len(report.submissions):
        raise typer.Exit(code=1)


@reminders_app.command("run")
def run_reminders(
    period: Annotated[
        str | None,
        typer.Option(help="e.g. 2023-S1; without it, every period due today, as scheduled"),
    ] = None,
    program: Annotated[str | None, typer.Option(help="Only this programme (with --period)")] = None,
    indicator: Annotated[
        str | None, typer.Option(help="Only this indicator (with --period)")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Say what would be sent; send nothing")] = False,
    deliver: Annotated[
        bool,
        typer.Option(
            help="Send now (when no notify service runs); else the notify service delivers"
        ),
    ] = False,
) -> None:
    """Run the reminder job once (the Kubernetes CronJob's command); print what it sent as JSON.

    Without --period: the scheduled job, every period due today (Vietnam time),
    printed as {"day": "YYYY-MM-DD", "runs": ...} with one run per period.
    It holds the scheduler's lease (exit 1, sending nothing, if another has it)
    and records its success for the job's metric and alert.
    With --period: that period only (--program, --indicator narrow it), one run.
    A dry run records nothing. Refused input exits 2.
    """
    if period is None and (program is not None or indicator is not None):
        raise typer.BadParameter("--program and --indicator need --period")
    settings = get_settings()
    platform.migrate(settings, ("notify",))
    try:
        if period is None:
            due = platform.remind_due(settings, dry_run=dry_run, deliver=deliver)
            typer.echo(asyncio.run(due).model_dump_json(indent=2))
            return
        run = platform.remind(
            settings,
            period=period,
            program=program,
            indicator=indicator,
            dry_run=dry_run,
            deliver=deliver,
        )
        typer.echo(asyncio.run(run).model_dump_json(indent=2))
    except SchedulerBusy as error:
        typer.echo(f"not run: {error}; the next scheduled run tries again", err=True)
        raise typer.Exit(code=1) from error
    except ProblemError as error:
        typer.echo(f"refused: {error.detail}", err=True)
        raise typer.Exit(code=2) from error


@keys_app.command("create")
def create_key(
    role: Annotated[Role, typer.Option(help="admin, agency or reader")],
    label: Annotated[str, typer.Option(help="Who or what uses the key")],
    agency: Annotated[str | None, typer.Option(help="The agency code of an agency key")] = None,
    rate_limit_per_minute: Annotated[int | None, typer.Option(help="0 = unlimited")] = None,
) -> None:
    """Issue an API key and print it (only its digest is stored)."""
    settings = get_settings()
    platform.migrate(settings, ("gateway",))
    request = keys.KeyRequest(
        role=role, agency=agency, label=label, rate_limit_per_minute=rate_limit_per_minute
    )

    async def issue() -> keys.IssuedKey:
        db = Database(settings.database_url_for("gateway"), schema=settings.schema_for("gateway"))
        try:
            async with db.transaction() as session:
                return await keys.create_key(session, request)
        finally:
            await db.dispose()

    issued = asyncio.run(issue())
    typer.echo(issued.key)
    typer.echo(
        f"key id {issued.key_id}, role {issued.role.value}"
        + (f", agency {issued.agency}" if issued.agency else ""),
        err=True,
    )
