"""``tasklane``: operate a Tasklane installation (migrations, tenants, probes). Services that have commands
of their own ship them as their own console scripts (``tasklane-beat schedule``).

Exit codes: 0 success, 1 the action failed (the message says why), 2 bad usage, 78 bad configuration.
"""

from __future__ import annotations

import sys
from decimal import Decimal

import click

from tasklane.admin import AdminError, create_business, find_business, issue_api_key
from tasklane.db.engine import Database
from tasklane.settings import ConfigurationError, Settings, load_settings

EX_CONFIG = 78


def _settings() -> Settings:
    try:
        return load_settings(Settings)
    except ConfigurationError as exc:
        click.echo(f"tasklane: {exc}", err=True)
        sys.exit(EX_CONFIG)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Operate a Tasklane installation. Configuration comes from TASKLANE_* environment variables."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from tasklane.db.migrate import current_revision, upgrade

    settings = _settings()
    upgrade(settings, revision)
    click.echo(f"database at revision {current_revision(settings)}")


@db.command("current")
def db_current() -> None:
    """Print the database's current revision."""
    from tasklane.db.migrate import current_revision

    click.echo(current_revision(_settings()) or "empty (no migrations applied)")


@db.command("wait")
@click.option(
    "--timeout", type=click.FloatRange(min=0), default=300, show_default=True, help="Seconds to wait."
)
@click.option(
    "--interval", type=click.FloatRange(min=0.1), default=2, show_default=True, help="Seconds between checks."
)
def db_wait(timeout: float, interval: float) -> None:
    """Wait until the database is reachable and at this release's schema, or at a later release's (exit 1
    on timeout).

    Pods run it before their service starts, so nothing runs against a schema older than its code. A schema
    newer than the code is accepted: migrations only add what the previous release can ignore, so pods of
    the old release keep starting during a rolling update, or after a rollback of the code.
    """
    import time

    from sqlalchemy.exc import SQLAlchemyError

    from tasklane.db.migrate import current_revision, head_revision, is_newer_than_this_release

    settings = _settings()
    head = head_revision()
    deadline = time.monotonic() + timeout
    while True:
        try:
            current = current_revision(settings)
            state = f"at revision {current or 'none (empty)'}"
        except SQLAlchemyError as exc:
            current, state = None, f"unreachable ({str(exc).splitlines()[0]})"
        if current == head:
            click.echo(f"database at revision {head}")
            return
        if current is not None and is_newer_than_this_release(current):
            click.echo(f"database at revision {current}, newer than this release's {head}")
            return
        if time.monotonic() >= deadline:
            raise click.ClickException(
                f"database still {state} after {timeout:g}s; this release needs {head}"
            )
        click.echo(f"waiting: database {state}, this release needs {head}", err=True)
        time.sleep(interval)


@main.group()
def health() -> None:
    """Probes for a worker pod: exit 0 healthy, 1 not."""


@health.command("heartbeat")
@click.option("--max-age", type=click.FloatRange(min=1), default=60, show_default=True, help="Seconds.")
def health_heartbeat(max_age: float) -> None:
    """Liveness: the worker's heartbeat file is fresher than MAX_AGE (no broker or database involved)."""
    import time

    path = _settings().worker_heartbeat_file
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        raise click.ClickException(
            f"no heartbeat at {path}: the worker has not started or has stopped"
        ) from None
    if age > max_age:
        raise click.ClickException(f"heartbeat {age:.0f}s old (limit {max_age:g}s): the worker is stuck")
    click.echo(f"heartbeat {age:.1f}s old")


@health.command("ping")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10, show_default=True, help="Seconds.")
def health_ping(timeout: float) -> None:
    """Readiness: the worker on this host answers a ping through the broker."""
    import socket

    from tasklane.celery_app import create_celery_app

    app = create_celery_app(_settings(), name="tasklane-probe")
    try:
        # limit=1: answer as soon as this host's worker replies, not after the whole timeout.
        replies = app.control.inspect(
            timeout=timeout, pattern=f"*@{socket.gethostname()}", matcher="glob", limit=1
        ).ping()
    except Exception as exc:  # the broker itself is unreachable: not ready, and say why
        raise click.ClickException(f"cannot reach the broker: {exc}") from None
    finally:
        app.close()
    if not replies:
        raise click.ClickException(f"no worker on {socket.gethostname()} answered within {timeout:g}s")
    click.echo(", ".join(sorted(replies)))


@main.group()
def admin() -> None:
    """Tenants and their API keys."""


@admin.command("create-business")
@click.option("--name", required=True, help="The business's display name.")
@click.option("--email", required=True, help="The owner's email; one business per owner.")
@click.option(
    "--credits", type=Decimal, default=Decimal(0), show_default=True, help="Opening AI-credit balance."
)
def admin_create_business(name: str, email: str, credits: Decimal) -> None:
    """Create a business and print its API key (shown once)."""
    database = Database(_settings())
    try:
        with database.transaction() as session:
            business, key = create_business(session, name=name, owner_email=email, credits=credits)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"business {business.id} ({business.name}) created")
    click.echo(f"API key (shown once, store it now): {key}")


@admin.command("create-api-key")
@click.option("--email", required=True, help="The owner email of the business.")
@click.option("--name", default="cli", show_default=True, help="A label for the key.")
def admin_create_api_key(email: str, name: str) -> None:
    """Issue another API key for an existing business and print it (shown once)."""
    database = Database(_settings())
    try:
        with database.transaction() as session:
            business = find_business(session, email)
            key = issue_api_key(session, business, name=name)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"API key for {business.name} (shown once, store it now): {key}")
