"""Settings from the environment, with the embedded defaults of the contract."""

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

TRUTHY = {"1", "true", "yes", "on"}
FALSY = {"0", "false", "no", "off", ""}


def parse_bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUTHY:
        return True
    if lowered in FALSY:
        return False
    raise ValueError(f"{name} must be true/false, 1/0 or yes/no, not {value!r}")


def _seconds(value: str, name: str) -> tuple[float, ...]:
    try:
        delays = tuple(float(part) for part in value.split(",") if part.strip())
    except ValueError:
        delays = ()
    if not delays or min(delays) < 0:
        raise ValueError(f"{name} must be delays in seconds separated by commas, not {value!r}")
    return delays


def _relays(value: str) -> list[dict]:
    try:
        relays = json.loads(value)
    except ValueError as error:
        raise ValueError(f"MAIL_RELAYS must be a JSON list of relays: {error}") from None
    if not isinstance(relays, list) or not all(
        isinstance(r, dict) and r.get("name") and r.get("server") for r in relays
    ):
        raise ValueError('MAIL_RELAYS must be a JSON list of {"name", "server", "offices", ...} objects')
    return relays


def _number(value: str | None, name: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return number


def _share(value: str, name: str) -> float:
    try:
        share = float(value)
    except ValueError:
        share = -1
    if not 0 < share <= 1:
        raise ValueError(f"{name} must be a share between 0 and 1 (0.05 is 5%), not {value!r}")
    return share


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment; in development, generated once into the instance folder."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    if os.environ.get("MOBILISE_ENV") == "production":
        raise RuntimeError("SECRET_KEY is required when MOBILISE_ENV=production")
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def from_environment(instance_path: str) -> dict:
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    settings = {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'mobilise.sqlite'}"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://localhost:6379/0"),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://localhost:5000").rstrip("/"),
        # Deliveries per RQ job, each job one SMTP session.
        "SEND_BATCH_SIZE": int(os.environ.get("SEND_BATCH_SIZE", "2000")),
        # A relay's temporary refusal of one address (4xx) is retried after these delays, then failed.
        "SEND_DEFER_BACKOFF": _seconds(
            os.environ.get("SEND_DEFER_BACKOFF", "60,300,900,3600,14400"), "SEND_DEFER_BACKOFF"
        ),
        # A relay that cannot be reached is tried again after these delays, the last repeated for ever.
        "SEND_RELAY_BACKOFF": _seconds(
            os.environ.get("SEND_RELAY_BACKOFF", "10,30,60,120,300,900"), "SEND_RELAY_BACKOFF"
        ),
        # A batch's claim on its deliveries lapses this long after its worker last showed life.
        "SEND_LEASE_SECONDS": float(os.environ.get("SEND_LEASE_SECONDS", "30")),
        # A batch this many permanent refusals in, at least half its tries, pauses its mailing for staff.
        "SEND_PAUSE_AFTER_ERRORS": int(os.environ.get("SEND_PAUSE_AFTER_ERRORS", "50")),
        # A mailing whose send jobs raise this many times in a row pauses for staff, saying why.
        "SEND_PAUSE_AFTER_FAILURES": int(os.environ.get("SEND_PAUSE_AFTER_FAILURES", "5")),
        # Seconds between ticks (what is due: planned mailings, deferred deliveries, dead claims, pauses
        # ending); every worker keeps the tick, and one of them runs each.
        "TICK_SECONDS": float(os.environ.get("TICK_SECONDS", "60")),
        # The default relay's limits (none when unset); MAIL_RELAYS (JSON) adds relays for some offices.
        "MAIL_PER_SECOND": _number(os.environ.get("MAIL_PER_SECOND"), "MAIL_PER_SECOND"),
        "MAIL_PER_HOUR": _number(os.environ.get("MAIL_PER_HOUR"), "MAIL_PER_HOUR"),
        "MAIL_RELAYS": _relays(os.environ.get("MAIL_RELAYS") or "[]"),
        # The largest request body a call takes (JSON, forms, a pasted UA document); uploads have their own.
        "MAX_BODY_BYTES": int(os.environ.get("MAX_BODY_BYTES", str(2 * 1024 * 1024))),
        # The largest CSV an import accepts (the upload answers 413 beyond it), and how long an import's
        # upload and its report of rejected rows are kept (personal data) before the tick deletes them.
        "IMPORT_MAX_BYTES": int(os.environ.get("IMPORT_MAX_BYTES", str(100 * 1024 * 1024))),
        "IMPORT_RETENTION_DAYS": float(os.environ.get("IMPORT_RETENTION_DAYS", "7")),
        # How long the audit trail (who did what, when) is kept before the tick deletes its older entries.
        "AUDIT_RETENTION_DAYS": float(os.environ.get("AUDIT_RETENTION_DAYS", "400")),
        # A mailing pauses for staff once, past GUARD_MIN_SAMPLE emails, its complaints pass GUARD_COMPLAINT_RATE
        # (the providers' limit) or its hard bounces GUARD_BOUNCE_RATE of what it sent.
        "GUARD_COMPLAINT_RATE": _share(os.environ.get("GUARD_COMPLAINT_RATE", "0.003"), "GUARD_COMPLAINT_RATE"),
        "GUARD_BOUNCE_RATE": _share(os.environ.get("GUARD_BOUNCE_RATE", "0.05"), "GUARD_BOUNCE_RATE"),
        "GUARD_MIN_SAMPLE": int(os.environ.get("GUARD_MIN_SAMPLE", "500")),
        # Mail to this domain is read by `flask inbound`: every email's envelope sender (VERP) and its
        # List-Unsubscribe mailto point there, each with the email's token.
        "INBOUND_DOMAIN": (os.environ.get("INBOUND_DOMAIN") or "").strip().lower() or None,
        # The providers' webhooks: each is refused (401/403) until its secret is set.
        "SES_TOPIC_ARNS": tuple(a.strip() for a in os.environ.get("SES_TOPIC_ARNS", "").split(",") if a.strip()),
        "SENDGRID_WEBHOOK_PUBLIC_KEY": os.environ.get("SENDGRID_WEBHOOK_PUBLIC_KEY") or None,
        "MAILGUN_WEBHOOK_SIGNING_KEY": os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY") or None,
        "POSTMARK_WEBHOOK_USER": os.environ.get("POSTMARK_WEBHOOK_USER") or None,
        "POSTMARK_WEBHOOK_PASSWORD": os.environ.get("POSTMARK_WEBHOOK_PASSWORD") or None,
        # Webhooks out: only to https and public addresses unless this is set (development, tests); a receiver
        # failing this many seconds is disabled.
        "WEBHOOK_ALLOW_PRIVATE": parse_bool(os.environ.get("WEBHOOK_ALLOW_PRIVATE", "false"), "WEBHOOK_ALLOW_PRIVATE"),
        "WEBHOOK_DISABLE_AFTER": timedelta(seconds=float(os.environ.get("WEBHOOK_DISABLE_AFTER", "86400"))),
        # When set, /metrics answers only a request with `Authorization: Bearer METRICS_TOKEN`.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        "LOG_FORMAT": os.environ.get("LOG_FORMAT") or "text",
        # The nameserver `flask office check` asks (HOST[:PORT]); the system's resolver when unset.
        "DNS_NAMESERVER": os.environ.get("DNS_NAMESERVER") or None,
        # Networks whose opens and clicks are machines' (security scanners staff know of), CIDRs.
        "TRACKING_MACHINE_NETWORKS": tuple(
            n.strip() for n in os.environ.get("TRACKING_MACHINE_NETWORKS", "").split(",") if n.strip()
        ),
    }
    production = os.environ.get("MOBILISE_ENV") == "production"
    settings.update(
        # The console's session cookie: never readable by scripts, never sent cross-site, https-only in production.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        REMEMBER_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        RATELIMIT_HEADERS_ENABLED=True,
        # Redis away: throttle per process rather than not at all.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    for name in ("MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD"):
        if name in os.environ:
            settings[name] = os.environ[name]
    if "MAIL_PORT" in os.environ:
        settings["MAIL_PORT"] = int(os.environ["MAIL_PORT"])
    for name in ("MAIL_USE_TLS", "MAIL_USE_SSL"):
        if name in os.environ:
            settings[name] = parse_bool(os.environ[name], name)
    return settings


def normalise_database_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 here, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
