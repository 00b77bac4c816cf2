"""What each email carries for the sending providers whose webhooks are set up: the delivery's id, in the place
each provider echoes back in its events (custom arguments, metadata, tags), so a bounce or a complaint names its
email even when the provider replaced our Message-ID. The providers strip these headers before delivery."""

DELIVERY_ARG = "mobilise_delivery"  # the name the id goes by in every provider's event

# (config key that sets the provider up, header, value with %d for the delivery id)
HEADERS = (
    ("SENDGRID_WEBHOOK_PUBLIC_KEY", "X-SMTPAPI", '{"unique_args": {"%s": "%%d"}}' % DELIVERY_ARG),
    ("MAILGUN_WEBHOOK_SIGNING_KEY", "X-Mailgun-Variables", '{"%s": "%%d"}' % DELIVERY_ARG),
    ("POSTMARK_WEBHOOK_USER", f"X-PM-Metadata-{DELIVERY_ARG}", "%d"),
    ("SES_TOPIC_ARNS", "X-SES-MESSAGE-TAGS", f"{DELIVERY_ARG}=%d"),
)


def provider_headers(config) -> list[tuple[str, str]]:
    """The (header, value template) pairs an email gets under this configuration."""
    return [(header, value) for key, header, value in HEADERS if config.get(key)]


def delivery_id_from(value) -> int | None:
    """The delivery id as a provider echoes it back (a string, or a list of one for SES tags), if it is one."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value > 0 else None
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        return int(value)
    return None
