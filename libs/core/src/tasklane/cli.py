"""``tasklane``: operate a Tasklane installation (migrations, tenants, demo data).

Exit codes: 0 success, 1 the action failed (the message says why), 2 bad usage, 78 bad configuration.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from importlib.metadata import entry_points

import click

from tasklane.admin import AdminError, create_business, find_business, issue_api_key
from tasklane.db.engine import Database
from tasklane.settings import ConfigurationError, Settings, load_settings

EX_CONFIG = 78


def _settings() -> Settings:
    try:
        return load_settings()
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


@main.command("demo-data")
@click.option("--businesses", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--products", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--customers", type=click.IntRange(min=0), default=100, show_default=True)
@click.option("--sales", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--users", type=click.IntRange(min=0), default=3, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same data.")
@click.option("--business-email", help="Fill this existing business instead of creating new ones.")
def demo_data(
    *,
    businesses: int,
    products: int,
    customers: int,
    sales: int,
    users: int,
    seed: int,
    business_email: str | None,
) -> None:
    """Fill the database with realistic demo businesses, products, customers and sales."""
    from tasklane.demo_data import DemoSpec, generate

    database = Database(_settings())
    spec = DemoSpec(
        businesses=businesses, products=products, customers=customers, sales=sales, users=users, seed=seed
    )
    target = None
    if business_email:
        try:
            with database.session() as session:
                target = find_business(session, business_email)
        except AdminError as exc:
            raise click.ClickException(str(exc)) from None
    for summary in generate(database, spec, business=target):
        counts = ", ".join(f"{count} {what}" for what, count in summary.counts.items())
        click.echo(f"{summary.business_name} <{summary.owner_email}> {summary.business_id}: {counts}")
        if summary.api_key:
            click.echo(f"  API key (shown once): {summary.api_key}")


def _load_plugins() -> None:
    """Services add their own commands (e.g. ``tasklane beat``) through the ``tasklane.cli`` entry points."""
    for entry_point in entry_points(group="tasklane.cli"):
        main.add_command(entry_point.load(), entry_point.name)


_load_plugins()
