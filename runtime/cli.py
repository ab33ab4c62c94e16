"""`flask --app webhook jobs run NAME`: one scheduled job run now, in this process (webhook.py adds it)."""

from __future__ import annotations

import click

from runtime import scheduler


@click.group("jobs")
def jobs_command():
    """Scheduled jobs."""


@jobs_command.command("run")
@click.argument("name")
def jobs_run(name):
    """Run one scheduled job now (prune, stuck, sla, opening, broadcasts, greetings, overdue, backup, rollups —
    greetings and backup whatever the time)."""
    if name not in scheduler.JOBS:
        raise click.ClickException(f"unknown job {name!r}; jobs: {', '.join(scheduler.JOBS)}")
    report = scheduler.run(name, on_demand=True)
    if report:
        click.echo(report)
    click.echo(f"job {name} done")
