"""Flask commands: ``db upgrade|check|revision``, ``seed-demo``, ``create-staff``, ``jobs run``, ``serve``."""

from __future__ import annotations

import getpass
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from marketplace.db import database

db_cli = AppGroup("db", help="Database migrations (Alembic).")
jobs_cli = AppGroup("jobs", help="Background jobs.")


def alembic_config(app: Flask):
    from pathlib import Path

    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"
    )
    config.set_main_option("sqlalchemy.url", app.config["DATABASE_URL"].replace("%", "%%"))
    config.attributes["engine"] = database(app).engine
    return config


def upgrade_database(app: Flask, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(app), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    upgrade_database(current_app, revision)
    click.echo(f"database at {revision}: {database().engine.url.render_as_string(hide_password=True)}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    from alembic import command

    command.revision(alembic_config(current_app), message=message, autogenerate=True)


@db_cli.command("check")
def db_check() -> None:
    """Fail when the models and the migrated schema differ."""
    from marketplace.migrations.drift import schema_drift

    with database().engine.connect() as connection:
        diff = schema_drift(connection)
    if diff:
        for item in diff:
            click.echo(repr(item))
        sys.exit(1)
    click.echo("no drift")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo data (idempotent) and print the demo logins."""
    from marketplace.seed import print_logins, seed_demo

    if current_app.config["CANAL_ENV"] == "production":
        raise click.ClickException("seed-demo refuses to run in production")
    created = seed_demo(current_app)
    click.echo("demo data loaded" if created else "demo data already present")
    print_logins(current_app)


@click.command("create-staff")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["reviewer", "finance", "admin"]), required=True)
@click.option("--name", default="")
@click.option("--password", default=None, help="Omit to be prompted (recommended).")
def create_staff_command(email: str, role: str, name: str, password: str | None) -> None:
    """Create a staff user with ROLE, or grant ROLE to an existing user."""
    from marketplace.db import get_session
    from marketplace.errors import DomainError
    from marketplace.staff.services import create_staff

    if password is None:
        password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    session = get_session()
    try:
        user = create_staff(session, email=email, password=password, role=role, display_name=name)
        session.commit()
    except DomainError as error:
        session.rollback()
        raise click.ClickException(str(error.message)) from error
    click.echo(f"{user.email} is now staff ({role})")


@jobs_cli.command("run")
@click.option("--once", is_flag=True, help="Run every job once and exit.")
def jobs_run(once: bool) -> None:
    """Run the background jobs in a loop (or once)."""
    from marketplace.jobs import REGISTRY, Runner

    runner = Runner(current_app._get_current_object())
    if once:
        ran = runner.run_due()
        click.echo(f"ran {len(ran)} of {len(REGISTRY)} jobs: {', '.join(ran)}")
        return
    try:
        runner.loop()
    except KeyboardInterrupt:
        pass


@jobs_cli.command("list")
def jobs_list() -> None:
    """List the registered jobs."""
    from marketplace.jobs import REGISTRY

    for job in sorted(REGISTRY.values(), key=lambda j: j.name):
        click.echo(f"{job.name:30} every {job.every_seconds:>5}s  {job.description}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve_command(host: str, port: int) -> None:
    """Serve the site (debug off) with the background jobs, and the Stripe sandbox when enabled, in-process."""
    from werkzeug.serving import run_simple

    from marketplace.jobs import Runner
    from marketplace.payments.stripe_server import start_stripe_sandbox

    app = current_app._get_current_object()
    if app.config["JOBS_IN_PROCESS"]:
        Runner(app).start_thread()
    sandbox = start_stripe_sandbox(app)
    if sandbox is not None:
        click.echo(f"Stripe sandbox (no real money) on {sandbox.base_url}; webhooks to {sandbox.webhook_url}")
    click.echo(f"Canal is running on http://{host}:{port}/ (Ctrl+C to stop)")
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


ledger_cli = AppGroup("ledger", help="The double-entry ledger.")


@ledger_cli.command("check")
def ledger_check() -> None:
    """Recompute every balance from postings; fail unless the ledger is sound."""
    with database().session_factory() as session:
        _report_ledger(session)


def _report_ledger(session) -> None:
    from marketplace.ledger.services import balance_mismatches, trial_balance, unbalanced_transactions

    rows, net = trial_balance(session)
    for row in rows:
        click.echo(f"{row.currency} {row.type:10} debit {row.debit:>16} credit {row.credit:>16}")
    mismatches = balance_mismatches(session)
    unbalanced = unbalanced_transactions(session)
    for code, cached, actual in mismatches:
        click.echo(f"MISMATCH {code}: cached {cached}, postings {actual}")
    for txn_id in unbalanced:
        click.echo(f"UNBALANCED transaction {txn_id}")
    off = {currency: value for currency, value in net.items() if value}
    if off or mismatches or unbalanced:
        click.echo(f"ledger NOT sound: net {off}, {len(mismatches)} mismatches, {len(unbalanced)} unbalanced")
        sys.exit(1)
    click.echo("ledger sound: trial balance zero, cached balances equal postings, every transaction balances")


def init_cli(app: Flask) -> None:
    app.cli.add_command(ledger_cli)
    app.cli.add_command(db_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_staff_command)
    app.cli.add_command(serve_command)
