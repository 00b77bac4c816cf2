"""`sendmail` with SMTP PIPELINING (RFC 2920), on Flask-Mail's smtplib session.

smtplib waits for the relay's reply after each of MAIL, RCPT, DATA and the message: four round trips an
email, each waking the relay and this process. Relays that advertise PIPELINING (Postfix, Exim, the
large services) take a group of commands in one write and answer it in one. Here a message's content
goes in one write with the next message's MAIL, RCPT and DATA (RFC 2920 lets the content open a group),
so an email costs one round trip. Each message is still sent only after the relay's 354 for it, and its
250 is still read before the next message's content goes, so an email counts as sent exactly when
smtplib would count it, and a worker killed at any instant has at most one message in flight. An
envelope written ahead delivers nothing by itself; one that is not followed by its message is abandoned
(RSET, or the session dropped when the relay already said 354, since only a complete DATA is delivered).
So an envelope is written ahead only for a message that can follow it: `relays.TimedConnection` makes one
only once the message has passed every check on our side, and one that fails them is not written at all.

Replies and errors are smtplib's own: the same exceptions with the same codes, so callers cannot tell
the two paths apart but by the time they take.
"""

import re
import smtplib
from functools import lru_cache

CRLF = b"\r\n"
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def supports_pipelining(smtp: smtplib.SMTP) -> bool:
    smtp.ehlo_or_helo_if_needed()
    return bool(smtp.does_esmtp and smtp.has_extn("pipelining"))


class Envelope:
    """One message's MAIL, RCPT and DATA as written, and its bytes; `source` is what it was made from."""

    def __init__(
        self,
        smtp: smtplib.SMTP,
        sender: str,
        recipients: list[str],
        message: bytes,
        mail_options=(),
        rcpt_options=(),
        source=None,
    ):
        options = [f"SIZE={len(message)}"] if smtp.has_extn("size") else []
        options += list(mail_options)
        if any(option.lower() == "smtputf8" for option in options) and not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
        mail_tail = "".join(f" {option}" for option in options)
        rcpt_tail = "".join(f" {option}" for option in rcpt_options)
        commands = [f"MAIL FROM:{quoteaddr(sender)}{mail_tail}"]
        commands += [f"RCPT TO:{quoteaddr(address)}{rcpt_tail}" for address in recipients]
        self.commands = "\r\n".join([*commands, "DATA", ""]).encode(
            "utf-8" if "smtputf8" in mail_tail.lower() else "ascii"
        )
        self.sender, self.recipients, self.message, self.source = sender, list(recipients), message, source

    def content(self) -> bytes:
        body = self.message
        if body.startswith(b"."):
            body = b"." + body
        if b"\n." in body:  # smtplib's `(?m)^\.` substitution, done by split and join in a fraction of its time
            body = b"\n..".join(body.split(b"\n."))
        return body + (b"." + CRLF if body.endswith(CRLF) else CRLF + b"." + CRLF)


class Pipeline:
    """The pipelined sends of one SMTP session. `ahead` is the envelope written with the last message,
    whose replies are still to be read."""

    def __init__(self, smtp: smtplib.SMTP):
        self.smtp = smtp
        self.ahead: Envelope | None = None

    def sendmail(self, envelope: Envelope, then: Envelope | None = None, meanwhile=None) -> dict:
        """As `smtplib.SMTP.sendmail` for `envelope`; `then`, the next message's envelope, goes with this content;
        `meanwhile()` runs while the relay reads it (it must not raise: the reply is still to be read)."""
        smtp = self.smtp
        if self.ahead is not envelope:
            self.abandon()
            smtp.send(envelope.commands)
        self.ahead = None

        # Every command of the group gets its reply, whatever came before it: read them all, then judge.
        mail_reply, rcpt_replies, (data_code, data_reply) = self._replies(envelope)
        accepted = mail_reply[0] == 250 and any(code in (250, 251) for code, _ in rcpt_replies)
        if data_code == 354 and not accepted:
            # A relay that opened DATA with no one to deliver to: end it empty, nobody receives it.
            smtp.send(b"." + CRLF)
            smtp.getreply()
        if mail_reply[0] != 250:
            _reset_or_close(smtp, mail_reply[0])
            raise smtplib.SMTPSenderRefused(*mail_reply, envelope.sender)
        refused = {
            address: reply for address, reply in zip(envelope.recipients, rcpt_replies) if reply[0] not in (250, 251)
        }
        if any(code == 421 for code, _ in refused.values()):
            smtp.close()
            raise smtplib.SMTPRecipientsRefused(refused)
        if len(refused) == len(envelope.recipients):
            smtp._rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        if data_code != 354:
            _reset_or_close(smtp, data_code)
            raise smtplib.SMTPDataError(data_code, data_reply)

        smtp.send(envelope.content() + then.commands if then else envelope.content())
        self.ahead = then
        if meanwhile is not None:
            meanwhile()
        code, reply = smtp.getreply()
        if code != 250:
            if code == 421:
                smtp.close()
                self.ahead = None
            elif self.ahead is None:
                smtp._rset()
            # else: the final dot ended the transaction, and a RSET now would undo the envelope written ahead.
            raise smtplib.SMTPDataError(code, reply)
        return refused

    def abandon(self) -> None:
        """Settle an envelope written ahead whose message will not follow."""
        envelope, self.ahead = self.ahead, None
        if envelope is None:
            return
        _, _, (data_code, _) = self._replies(envelope)
        if data_code == 354:
            self.smtp.close()  # the relay waits for content: only dropping the session sends nothing
        else:
            self.smtp._rset()

    def _replies(self, envelope: Envelope):
        smtp = self.smtp
        mail_reply = smtp.getreply()
        rcpt_replies = [smtp.getreply() for _ in envelope.recipients]
        return mail_reply, rcpt_replies, smtp.getreply()


def quoteaddr(address: str) -> str:
    """`smtplib.quoteaddr`: "<address>". A plain address is one already, without parsing it (a tenth of the
    time spent per email)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return f"<{address}>"
    return _parsed(address)


@lru_cache(maxsize=256)
def _parsed(address: str) -> str:
    return smtplib.quoteaddr(address)


def _reset_or_close(smtp: smtplib.SMTP, code: int) -> None:
    if code == 421:
        smtp.close()
    else:
        smtp._rset()
