"""The command line of the contract: `flask --app app …`."""

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from .errors import ServiceError


def fail(error: ServiceError):
    details = f": {error.details}" if error.details else ""
    raise click.ClickException(f"{error.message}{details}")


office_cli = AppGroup("office", help="Country offices.")
supporters_cli = AppGroup("supporters", help="Supporter lists.")
staff_cli = AppGroup("staff", help="Staff accounts and API tokens.")
stats_cli = AppGroup("stats", help="The counts staff see.")


@office_cli.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--language", required=True, help="ISO 639-1 code, e.g. en")
@click.option("--timezone", "timezone", required=True, help="IANA name, e.g. Europe/London")
@click.option("--sender", required=True, help="the From address of the office's emails")
@click.option("--sender-name")
@click.option("--reply-to")
@click.option("--address", default="", help="postal address for the email footer")
@click.option("--send-hour", type=int, default=10, show_default=True)
@click.option("--reminder-days", default="7,2", show_default=True)
@click.option("--logo-url", help="an https:// image shown atop the office's emails (none by default)")
@click.option("--dkim-selector", help="with --dkim-key-file: every email of the office is signed (DKIM)")
@click.option("--dkim-key-file", type=click.File("r"), help="the PEM private key (RSA or Ed25519) for --dkim-selector")
@click.option("--themes", help="the themes its preference page offers, comma-separated (default: the standard list)")
def create_office_command(
    code,
    name,
    language,
    timezone,
    sender,
    sender_name,
    reply_to,
    address,
    send_hour,
    reminder_days,
    logo_url,
    dkim_selector,
    dkim_key_file,
    themes,
):
    """Add a country office."""
    from .offices.service import create_office

    try:
        days = [int(d) for d in reminder_days.split(",") if d.strip()]
    except ValueError:
        raise click.BadParameter(
            "a comma-separated list of whole days, e.g. 7,2", param_hint="--reminder-days"
        ) from None
    data = {
        "code": code,
        "name": name,
        "language": language,
        "timezone": timezone,
        "sender": sender,
        "sender_name": sender_name,
        "reply_to": reply_to,
        "address": address.replace("\\n", "\n"),
        "send_hour": send_hour,
        "reminder_days": days,
        "logo_url": logo_url,
        "dkim_selector": dkim_selector,
        "dkim_private_key": dkim_key_file and dkim_key_file.read(),
        "themes": themes and [theme.strip() for theme in themes.split(",") if theme.strip()],
    }
    try:
        office = create_office({k: v for k, v in data.items() if v is not None})
    except ServiceError as error:
        fail(error)
    click.echo(f"office {office.code} created: {office.name}")
    if office.dkim_selector:
        _echo_dkim(office)


@office_cli.command("update")
@click.argument("code")
@click.option("--dkim-selector", help="with --dkim-key-file: every email of the office is signed (DKIM)")
@click.option("--dkim-key-file", type=click.File("r"), help="the PEM private key (RSA or Ed25519) for --dkim-selector")
@click.option(
    "--no-dkim", is_flag=True, help="remove the office's DKIM key: its emails go unsigned (the relay may sign)"
)
def update_office_command(code, dkim_selector, dkim_key_file, no_dkim):
    """Change an office's DKIM selector and key."""
    from .offices.service import change_office

    if no_dkim and (dkim_selector or dkim_key_file):
        raise click.UsageError("--no-dkim removes the key: give it alone")
    if no_dkim:
        data = {"dkim_selector": None, "dkim_private_key": None}
    else:
        data = {"dkim_selector": dkim_selector, "dkim_private_key": dkim_key_file and dkim_key_file.read()}
        data = {k: v for k, v in data.items() if v is not None}
    if not data:
        raise click.UsageError("nothing to change: give --dkim-selector with --dkim-key-file, or --no-dkim")
    try:
        office = change_office(_office_or_fail(code), data)
    except ServiceError as error:
        fail(error)
    click.echo(f"office {office.code} updated")
    _echo_dkim(office)


@office_cli.command("check")
@click.argument("code")
@click.option("--nameserver", help="HOST[:PORT] of the nameserver to ask (default: DNS_NAMESERVER, else the system's)")
def check_office_command(code, nameserver):
    """Tell from DNS whether the office's sender domain publishes SPF, DKIM and DMARC (and an MX for
    INBOUND_DOMAIN), and what to publish where one is missing; exits 1 when one is."""
    from flask import current_app

    from .offices.dns_check import DnsUnreachable, check_office

    office = _office_or_fail(code)
    config = current_app.config
    try:
        findings = check_office(
            office, nameserver=nameserver or config.get("DNS_NAMESERVER"), inbound_domain=config.get("INBOUND_DOMAIN")
        )
    except (DnsUnreachable, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"office {office.code} sends from {office.sender_domain}")
    for finding in findings:
        click.echo(f"{finding.what:<6} {finding.status:<11} {finding.name}")
        click.echo(f"{'':18} {finding.detail}")
    problems = [finding for finding in findings if not finding.ok]
    if problems:
        click.echo(
            f"{len(problems)} to fix ({', '.join(f.what for f in problems)}): until then mailbox providers may "
            "refuse the office's mail or file it as spam"
        )
        sys.exit(1)
    click.echo("everything checked is published")


def _echo_dkim(office) -> None:
    """What IT publishes for the office's DKIM key, or that its emails go unsigned."""
    dkim = office.dkim()
    if dkim is None:
        click.echo("DKIM: none (emails go unsigned by Mobilise; the relay may sign them)")
        return
    click.echo(f"DKIM: publish this TXT record at {dkim['name']}, then run: flask office check {office.code}")
    click.echo(dkim["public_key"])


@staff_cli.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="reaches every office")
@click.option("--office", "office_code", help="the office this account belongs to")
@click.option(
    "--role",
    type=click.Choice(["manager", "campaigner", "viewer"]),
    help="in the office: manager (the default: everything), campaigner (launch, update, import), viewer (reads)",
)
@click.option("--password", help="generated and printed when not given")
def create_staff_command(email, admin, office_code, role, password):
    """Add a staff account."""
    from .auth.service import create_staff

    try:
        staff, chosen = create_staff(email, admin=admin, office_code=office_code, password=password, role=role)
    except ServiceError as error:
        fail(error)
    scope = "admin" if staff.is_admin else f"office {staff.office.code}, {staff.role}"
    click.echo(f"staff {staff.email} created ({scope})")
    if not password:
        click.echo(f"password: {chosen}")


@staff_cli.command("token")
@click.argument("email")
def staff_token_command(email):
    """Print a new API token (shown once; stored hashed)."""
    from .auth.service import issue_token

    try:
        token = issue_token(email)
    except ServiceError as error:
        fail(error)
    click.echo("API token (shown once, keep it safe):")
    click.echo(token)


@staff_cli.command("password")
@click.argument("email")
@click.option("--password", help="generated and printed when not given")
def staff_password_command(email, password):
    """Set a staff account's password; every session signed in before ends."""
    import secrets

    from .auth.service import set_password

    chosen = password or secrets.token_urlsafe(12)
    try:
        staff = set_password(email, chosen)
    except ServiceError as error:
        fail(error)
    click.echo(f"password of {staff.email} changed: its sessions are ended")
    if not password:
        click.echo(f"password: {chosen}")


@supporters_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--office", "office_code", required=True)
def import_supporters_command(path, office_code):
    """Import supporters from a CSV (header row with at least `email`)."""
    import os
    from pathlib import Path

    from .supporters.imports import Refused, import_at_once, imports_folder

    office = _office_or_fail(office_code)
    size = os.path.getsize(path)
    with (
        open(path, "rb") as raw,
        click.progressbar(length=size, label=f"Importing into {office.code}", file=sys.stderr) as bar,
    ):
        done = 0

        def progress(position, _result):
            nonlocal done
            bar.update(max(position - done, 0))
            done = max(position, done)

        try:
            result = import_at_once(
                office,
                raw,
                size,
                progress,
                name=Path(path).name,
                report=imports_folder() / f"{Path(path).stem}-{office.code}-rejected.csv",
            )
        except Refused as error:
            raise click.ClickException(f"nothing imported: {error}") from None
    click.echo(f"created {result['created']}, updated {result['updated']}, rejected {result['rejected']}")
    report = result["report"]
    click.echo(f"rejected rows (line, email, reason): {report}" if report else "no row was rejected")


def _office_or_fail(code: str):
    from .offices.service import get_office

    try:
        return get_office(code)
    except ServiceError as error:
        fail(error)


@supporters_cli.command("export")
@click.argument("email")
@click.option("--office", "office_code", required=True)
def export_supporter_command(email, office_code):
    """Print, as JSON, everything held on the supporter with this address."""
    import json

    from .dashboard.privacy import export_supporter

    try:
        click.echo(json.dumps(export_supporter(_office_or_fail(office_code), email), ensure_ascii=False, indent=2))
    except ServiceError as error:
        fail(error)


@supporters_cli.command("erase")
@click.argument("email")
@click.option("--office", "office_code", required=True)
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def erase_supporter_command(email, office_code, yes):
    """Erase the supporter's personal data for good (the counts keep their numbers)."""
    from .dashboard.privacy import erase_supporter

    office = _office_or_fail(office_code)
    if not yes:
        click.confirm(f"Erase this supporter of {office.code} for good?", abort=True)
    try:
        erase_supporter(office, email)
    except ServiceError as error:
        fail(error)
    click.echo("erased")


@click.command("worker")
@click.option("--burst", is_flag=True, help="work until every queue is empty, then exit")
def worker_command(burst):
    """Run an RQ worker on all of the service's queues, keeping the minute tick with the other workers."""
    from .worker import run_worker

    run_worker(burst)


@click.command("inbound")
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to listen on")
@click.option("--port", type=int, default=2525, show_default=True)
def inbound_command(host, port):
    """Receive bounces (RFC 3464), feedback reports (RFC 5965) and unsubscribe mails for INBOUND_DOMAIN over SMTP."""
    from flask import current_app

    from .deliverability.inbound_server import serve

    if not current_app.config["INBOUND_DOMAIN"]:
        raise click.ClickException("set INBOUND_DOMAIN: the domain whose mail this server receives")
    serve(current_app._get_current_object(), host, port)


@click.command("dispatch")
@click.option("--at", "at", help="ISO-8601 instant to act as (default: now)")
def dispatch_command(at):
    """Queue every planned mailing due at that instant; cancel what has expired."""
    from datetime import datetime

    from .clock import to_naive_utc
    from .sending.tick import tick

    moment = None
    if at:
        try:
            moment = to_naive_utc(datetime.fromisoformat(at.replace("Z", "+00:00")))
        except ValueError:
            raise click.BadParameter("an ISO-8601 instant such as 2027-03-01T10:05:00Z", param_hint="--at") from None
    result = tick(moment)
    click.echo(", ".join(f"{name} {count}" for name, count in result.items()))


@click.command("scheduler")
def scheduler_command():
    """Optional: enqueue the tick every minute with RQ's cron scheduler (the workers keep it already)."""
    from rq.cron import CronScheduler

    from .jobs import redis_connection

    scheduler = CronScheduler(connection=redis_connection())
    scheduler.load_config_from_file("workers.cron")  # by name: mobilise never imports workers
    scheduler.start()


@click.command("demo")
def demo_command():
    """Fill an empty database with demo offices, supporters and the seed UA; the passwords and tokens it prints are
    kept in the instance folder's demo-credentials.txt, which a later run on the filled database leaves alone."""
    from pathlib import Path

    from flask import current_app

    from .demo import DemoRefused, load_demo

    credentials = Path(current_app.instance_path) / "demo-credentials.txt"
    try:
        summary = load_demo()
    except DemoRefused as error:
        if credentials.exists():
            click.echo(f"{error}; its passwords and API tokens are still in {credentials}")
        else:
            click.echo(f"{error}; set a password with: flask --app app staff password EMAIL")
        sys.exit(0)
    credentials.touch(mode=0o600)
    credentials.write_text("".join(f"{line}\n" for line in summary), encoding="utf-8")
    for line in summary:
        click.echo(line)
    click.echo(f"kept in {credentials}")


@stats_cli.command("recount")
@click.option("--case", "case_id", type=int, help="only this case's drives (default: every drive)")
def recount_command(case_id):
    """Rebuild the counters from the deliveries, events and actions (after a bulk load or an upgrade)."""
    from .dashboard.recount import recount
    from .extensions import db
    from .sequences.models import Drive

    query = db.select(Drive.id)
    if case_id is not None:
        query = query.where(Drive.case_id == case_id)
    drive_ids = list(db.session.scalars(query))
    recount(drive_ids)
    click.echo(f"recounted {len(drive_ids)} drive(s)")


def register_commands(app: Flask) -> None:
    commands = (
        office_cli,
        staff_cli,
        supporters_cli,
        stats_cli,
        worker_command,
        inbound_command,
        dispatch_command,
        scheduler_command,
        demo_command,
    )
    for command in commands:
        app.cli.add_command(command)
