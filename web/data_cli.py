"""The `flask --app webhook` commands for the shop's data: `db backup [PATH]`, `db restore PATH` (added to the
existing `db` group) and `customers export|forget PHONE|TELEGRAM_ID|CUSTOMER_ID`. docs/backups.md explains them."""

from __future__ import annotations

import json
from pathlib import Path

import click

import config
from db import backup
from handlers.features import backups, privacy


def register(cli: click.Group, db_group: click.Group) -> None:
    """Add the commands to the app's command line (app.cli) and to its `db` group."""
    db_group.add_command(backup_command)
    db_group.add_command(restore_command)
    cli.add_command(customers_command)


@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def backup_command(path: Path | None):
    """Copy the database, consistently, while the bot keeps running: into PATH (a directory, or a file name), by
    default backup.dir. Prints where the copy went and its size."""
    try:
        copy = backups.make(path)
    except backup.BackupError as exc:
        raise click.ClickException(f"no backup made: {exc}") from None
    click.echo(f"backup written to {copy.path} ({backups.size_words(copy.size)}, schema version {copy.version})")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--no-copy-first", is_flag=True, help="do not copy the database as it is into backup.dir first")
def restore_command(path: Path, yes: bool, no_copy_first: bool):
    """Replace the database with the copy at PATH. The bot must be stopped; the copy is checked first (a damaged
    copy or one from a newer Khidmat is refused and nothing changes), the database as it is now is copied into
    backup.dir, and an older copy is upgraded."""
    try:
        copy = backup.verify(path)
    except backup.BackupError as exc:
        raise click.ClickException(f"not restored: {exc}") from None
    where = config.database().url.split("@")[-1]  # no user or password on screen
    click.echo(f"{path}: a good {copy.kind} copy ({backups.size_words(copy.size)}, schema version {copy.version})")
    if not yes and not click.confirm(f"Replace everything in {where} with it?"):
        click.echo("cancelled: nothing changed")
        return
    made: list[backup.Copy] = []
    try:
        copy, version = backup.restore(path, config.database().url, first=lambda: _copy_first(made, no_copy_first))
    except backup.BackupError as exc:
        raise click.ClickException(f"not restored: {exc}") from None
    for before in made:
        backups.remember(before)  # the newest copy there is (/metrics), also in the restored database
    upgraded = f", upgraded to schema version {version}" if version != copy.version else ""
    click.echo(f"restored {path} into {where}{upgraded}; start the bot again")


def _copy_first(made: list, skip: bool) -> None:
    """The database as it is, copied before a restore replaces it (in case the wrong copy was chosen)."""
    if skip:
        return
    try:
        made.append(backups.make())
    except backup.BackupError as exc:
        raise backup.BackupError(
            f"the database as it is now could not be copied first ({exc}); "
            "fix that, or restore with --no-copy-first to go without that copy"
        ) from None
    click.echo(f"the database as it was: copied to {made[-1].path}")


@click.group("customers")
def customers_command():
    """One customer's data: export it, or forget them."""


def _customer(ref: str):
    try:
        return privacy.find(ref)
    except privacy.Unknown as exc:
        raise click.ClickException(str(exc)) from None


@customers_command.command("export")
@click.argument("ref", metavar="PHONE|TELEGRAM_ID|CUSTOMER_ID")
def customers_export(ref: str):
    """Print, as JSON, everything stored about one customer."""
    click.echo(json.dumps(privacy.export(_customer(ref)), ensure_ascii=False, indent=2))


@customers_command.command("forget")
@click.argument("ref", metavar="PHONE|TELEGRAM_ID|CUSTOMER_ID")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def customers_forget(ref: str, yes: bool):
    """Erase one customer's personal data for good; anonymous counts stay, and the erasure is recorded."""
    customer = _customer(ref)
    named = privacy.display(customer)
    if not yes and not click.confirm(f"Erase {named} for good?"):
        click.echo("cancelled: nothing changed")
        return
    record = privacy.forget(customer)
    click.echo(
        f"{named} forgotten at {record.erased_at:%Y-%m-%d %H:%M} UTC: {record.tickets} tickets and "
        f"{record.messages} messages kept as anonymous counts"
    )
