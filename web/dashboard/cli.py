"""`flask --app webhook dashboard …`: the owners' dashboard from the command line."""

from __future__ import annotations

import click

import config
from handlers.features import dashboard


@click.group("dashboard")
def command():
    """The owners' web dashboard."""


@command.command("link")
@click.argument("owner_id", type=int)
def link(owner_id: int):
    """Print a single-use login link for OWNER_ID (one of telegram.owner_ids), valid dashboard.link_minutes."""
    try:
        click.echo(dashboard.make_link(owner_id))
    except dashboard.Refused as exc:
        if exc.reason == dashboard.OFF:
            raise click.ClickException(
                "the dashboard has no signing key: set BOT_DASHBOARD_SECRET_KEY (or telegram.webhook_secret)"
            ) from None
        owners = ", ".join(str(o) for o in config.telegram().owner_ids) or "none set"
        raise click.ClickException(f"{owner_id} is not one of telegram.owner_ids ({owners})") from None
