"""Operations commands, exactly as the back-office contract lists them."""

import logging
import signal
import sys
import threading
from datetime import datetime, timedelta

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from portal.auth import two_factor
from portal.auth.services import beneficiaries_with_phone
from portal.core.clock import utcnow
from portal.core.phones import InvalidPhone, normalise_mobile
from portal.demo import seed_demo
from portal.events.webhooks import Dispatcher, deliver_due
from portal.extensions import db
from portal.indicators import summaries as indicator_summaries
from portal.organisations import services as organisations
from portal.retention import services as retention
from portal.sms.sender import send_due

logger = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_organisation)
    app.cli.add_command(create_api_key)
    app.cli.add_command(create_counsellor)
    app.cli.add_command(reset_2fa)
    app.cli.add_command(worker)
    app.cli.add_command(seed_demo)
    app.cli.add_command(end_sessions)
    app.cli.add_command(indicators)
    app.cli.add_command(purge)


@click.command("init-db")
def init_db() -> None:
    """Create the schema or migrate it to the latest version (safe to run twice)."""
    upgrade()
    click.echo("Database is at the latest version.")


def _organisation_or_fail(slug: str):
    organisation = organisations.organisation_by_slug(slug)
    if organisation is None:
        raise click.ClickException(f"no organisation {slug!r}: create it with create-organisation")
    return organisation


@click.command("create-organisation")
@click.argument("slug")
@click.argument("name")
@click.option("--department", "department_code", help="INSEE code: 67, 29, 2A, 974…")
def create_organisation(slug: str, name: str, department_code: str | None) -> None:
    """An organisation (a department, a PLIE, an association…)."""
    try:
        organisation = organisations.create_organisation(slug, name, department_code)
    except organisations.OrganisationError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Organisation {organisation.slug} created.")


@click.command("create-api-key")
@click.argument("slug")
def create_api_key(slug: str) -> None:
    """A new API key, printed once, alone on the last line."""
    organisation = _organisation_or_fail(slug)
    _api_key, key = organisations.create_api_key(organisation)
    db.session.commit()
    click.echo(f"API key for {slug} (shown once, store it now):")
    click.echo(key)


@click.command("create-counsellor")
@click.argument("slug")
@click.argument("email")
@click.argument("name")
@click.option(
    "--password",
    help="Only for scripts: it lands in the shell history. Without it, a hidden prompt asks.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)
@click.option("--admin", is_flag=True, help="An administrator of the organisation.")
def create_counsellor(
    slug: str, email: str, name: str, password: str | None, password_stdin: bool, admin: bool
) -> None:
    """A counsellor account. The password: at least 12 characters, hard to guess, without
    the person's name or email; typed at a hidden prompt unless given otherwise."""
    if password is not None and password_stdin:
        raise click.UsageError("give --password or --password-stdin, not both")
    if password is not None:
        click.echo(
            "Warning: a password given with --password stays in the shell history and is "
            "visible to other users in the process list; prefer the prompt or --password-stdin.",
            err=True,
        )
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt="Password again", err=True
        )
    organisation = _organisation_or_fail(slug)
    try:
        counsellor = organisations.create_counsellor(organisation, email, name, password, admin)
    except organisations.OrganisationError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Counsellor {counsellor.email} created ({counsellor.role.value}).")


@click.command("reset-2fa")
@click.argument("email")
def reset_2fa(email: str) -> None:
    """Turn a counsellor's two-step sign-in off (lost phone): their sessions end and they
    enrol again at their next sign-in (administrators must)."""
    counsellor = organisations.counsellor_by_email(email)
    if counsellor is None:
        raise click.ClickException(f"no counsellor {email.strip().lower()!r}")
    two_factor.reset_two_factor(counsellor)
    db.session.commit()
    click.echo(f"Two-step sign-in of {counsellor.email} reset; their sessions are ended.")


@click.command("worker")
@click.option("--once", is_flag=True, help="One pass, then exit.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
@click.option(
    "--sms-threads", default=4, show_default=True, help="SMS sending loops (they wait on Twilio)."
)
@click.option(
    "--webhook-threads",
    default=32,
    show_default=True,
    help="Webhook lanes in all (each receiver gets at most 2 at once).",
)
def worker(once: bool, interval: float, sms_threads: int, webhook_threads: int) -> None:
    """Send due SMS and webhooks until stopped; purge what is past its period once a day.

    SMS and webhooks run in loops side by side, so a slow webhook receiver never
    delays an SMS (a sign-in code above all); several SMS loops claim separate batches.
    The webhook loop hands deliveries to lanes without waiting for them, so a receiver
    that hangs holds its own lanes and never the loop.
    """
    stopping = threading.Event()

    def stop(_signum, _frame):
        stopping.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    app = current_app._get_current_object()
    dispatcher = None if once else Dispatcher(app, threads=webhook_threads)
    loops = [
        threading.Thread(target=_loop, args=(app, "SMS", send_due, once, interval, stopping))
        for _ in range(max(1, sms_threads))
    ] + [
        threading.Thread(
            target=_loop,
            args=(
                app,
                "webhook deliveries",
                deliver_due if dispatcher is None else dispatcher.dispatch,
                once,
                interval,
                stopping,
            ),
        ),
    ]
    if not once:  # a one-pass worker (cron, tests) leaves the purge to `flask purge`
        loops.append(
            threading.Thread(
                target=_loop, args=(app, "purge", DailyPurge(), once, interval, stopping)
            )
        )
    for loop in loops:
        loop.start()
    for loop in loops:
        while loop.is_alive():
            loop.join(0.5)
    if dispatcher is not None:
        dispatcher.close()  # each lane ends with the attempt it is in, by its deadline


class DailyPurge:
    """The worker's purge: at start, then once a day (in each worker process: two runs at
    once wait for each other, and the second finds nothing)."""

    def __init__(self) -> None:
        self.last_run: datetime | None = None

    def __call__(self) -> int:
        now = utcnow()
        if self.last_run is not None and now - self.last_run < timedelta(days=1):
            return 0
        # A failed run (the loop logs it) is tried again in an hour, not at once.
        self.last_run = now - timedelta(hours=23)
        done = retention.purge()
        db.session.commit()
        self.last_run = now
        logger.info("purge: %s", _purge_summary(done))
        return 0  # nothing for the loop to hurry on


def _purge_summary(done: dict[str, int]) -> str:
    return ", ".join(f"{kind} {done[kind]}" for kind in retention.KINDS)


def _loop(app, name: str, task, once: bool, interval: float, stopping: threading.Event) -> None:
    with app.app_context():
        while not stopping.is_set():
            try:
                done = task()
            except Exception:  # a database hiccup must not kill the worker; rows stay due
                logger.exception("worker pass over %s failed", name)
                db.session.rollback()
                done = 0
            if done:
                logger.info("worker: %d %s handled", done, name)
            if once:
                break
            if not done:
                stopping.wait(interval)
        db.session.remove()


@click.command("end-sessions")
@click.option("--counsellor", "email", help="The counsellor's email.")
@click.option("--phone", help="A beneficiary's mobile number: everyone using it.")
def end_sessions(email: str | None, phone: str | None) -> None:
    """End every session of an account at once, on every device (a lost phone, a
    departure, a doubt)."""
    if bool(email) == bool(phone):
        raise click.UsageError("give --counsellor EMAIL or --phone NUMBER")
    if email:
        counsellor = organisations.counsellor_by_email(email)
        accounts = [counsellor] if counsellor else []
    else:
        try:
            accounts = beneficiaries_with_phone(normalise_mobile(phone))
        except InvalidPhone:
            raise click.BadParameter("not a French mobile number", param_hint="--phone") from None
    if not accounts:
        raise click.ClickException("no such account")
    for account in accounts:
        account.end_sessions()
    db.session.commit()
    click.echo(f"Sessions ended: {len(accounts)} account(s).")


@click.group("indicators")
def indicators() -> None:
    """The indicators' summaries."""


@indicators.command("rebuild")
def rebuild_indicators() -> None:
    """Make the indicators' summaries again from the facts (PostgreSQL; safe while the
    portal runs: writers wait for the end, then count on top)."""

    def progress(name: str, done: int, total: int) -> None:
        click.echo(f"{name}: {done * 100 // total} % ({done}/{total} ids)")

    rows = indicator_summaries.rebuild(progress)
    db.session.commit()
    if not rows:
        click.echo("Nothing to rebuild: on SQLite the indicators read the facts themselves.")
        return
    click.echo(f"Indicators rebuilt: {rows['appointments']} appointments, {rows['sms']} SMS.")


@click.command("purge")
def purge() -> None:
    """Remove or empty what is past its retention period (RETENTION_* settings) and print
    how many rows of each kind; safe to run twice, and from two workers at once."""
    done = retention.purge()
    db.session.commit()
    click.echo(f"Purged: {_purge_summary(done)}.")
