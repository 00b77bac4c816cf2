"""`flask inbound`: a small SMTP server (aiosmtpd) for mail to INBOUND_DOMAIN.

RCPT TO decides at once (`inbound.mailbox_for`): any address but ours is refused with 550, so the server relays
nothing. DATA is read and recorded in a worker thread, inside the app's context, so a slow database never holds
the event loop; a database error answers 451 and the sending system tries again later (its retry is recorded
once). One app serves every connection.
"""

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.smtp import SMTP
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ..logs import configure as configure_logging
from .inbound import mailbox_for, receive

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # advertised as SIZE; larger is refused with 552. A DSN or ARF is far smaller
MAX_RECIPIENTS = 10  # a bounce has one; more is someone trying the server
THREADS = 4


class InboundHandler:
    def __init__(self, app: Flask, pool: ThreadPoolExecutor):
        self.app, self.pool = app, pool
        self.domain = app.config["INBOUND_DOMAIN"]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        with self.app.app_context():  # the token's key; no I/O
            mailbox = mailbox_for(address, self.domain)
        if mailbox is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self.pool, self.deliver, list(envelope.rcpt_tos), raw)
        except SQLAlchemyError as error:
            log.warning("inbound message not recorded, the sender will retry: %s", type(error).__name__)
            return "451 4.3.0 Temporary failure, try again later"
        except Exception:
            log.exception("inbound message not recorded, the sender will retry")
            return "451 4.3.0 Temporary failure, try again later"
        return "250 2.0.0 OK"

    def deliver(self, addresses: list[str], raw: bytes) -> None:
        with self.app.app_context():
            for address in addresses:
                mailbox = mailbox_for(address, self.domain)
                if mailbox is not None:
                    log.info("inbound %s message: %s", mailbox.kind, receive(mailbox, address, raw))


def serve(app: Flask, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM; the messages being recorded then finish first."""
    configure_logging(level=logging.INFO)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per SMTP command; ours say what matters
    with ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="inbound") as pool:
        asyncio.run(_serve(InboundHandler(app, pool), host, port))


async def _serve(handler: InboundHandler, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for name in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(name, stop.set)

    def session() -> SMTP:
        return SMTP(
            handler, hostname=handler.domain, ident="Mobilise inbound", data_size_limit=MAX_MESSAGE_BYTES, loop=loop
        )

    server = await loop.create_server(session, host, port)
    log.info("inbound SMTP for %s listening on %s:%s", handler.domain, host, port)
    await stop.wait()
    server.close()
    log.info("inbound SMTP stopped")
