"""`sendmail` with SMTP PIPELINING (RFC 2920), on Flask-Mail's smtplib session.

smtplib waits for the relay's reply after each of MAIL, RCPT, DATA and the message: four round trips an
email, each waking the relay and this process once. Relays that advertise PIPELINING (Postfix, Exim,
the large services) take MAIL, RCPT and DATA in one write, so an email costs two round trips. The
message itself is still sent only after the relay's 354, and its 250 is still read before the next
email, so an email counts as sent exactly when smtplib would count it.

Replies and errors are smtplib's own: the same exceptions with the same codes, after the same RSET or
close, so callers cannot tell the two paths apart but by the time they take.
"""
import re
import smtplib

CRLF = b"\r\n"
_LEADING_DOT = re.compile(rb"(?m)^\.")  # smtplib's _quote_periods


def supports_pipelining(smtp: smtplib.SMTP) -> bool:
    smtp.ehlo_or_helo_if_needed()
    return smtp.does_esmtp and smtp.has_extn("pipelining")


def sendmail(smtp: smtplib.SMTP, sender: str, recipients: list[str], message: bytes,
             mail_options=(), rcpt_options=()) -> dict:
    """As `smtplib.SMTP.sendmail`, for a session whose relay advertised PIPELINING."""
    options = [f"SIZE={len(message)}"] if smtp.has_extn("size") else []
    options += list(mail_options)
    if any(option.lower() == "smtputf8" for option in options):
        if not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
        smtp.command_encoding = "utf-8"
    rcpt_tail = "".join(f" {option}" for option in rcpt_options)
    mail_tail = "".join(f" {option}" for option in options)
    commands = [f"MAIL FROM:{smtplib.quoteaddr(sender)}{mail_tail}"]
    commands += [f"RCPT TO:{smtplib.quoteaddr(address)}{rcpt_tail}" for address in recipients]
    smtp.send("\r\n".join([*commands, "DATA", ""]))

    # Every command of the group gets its reply, whatever came before it: read them all, then judge.
    mail_reply = smtp.getreply()
    rcpt_replies = [smtp.getreply() for _ in recipients]
    data_code, data_reply = smtp.getreply()
    if data_code == 354 and (mail_reply[0] != 250 or not any(code in (250, 251) for code, _ in rcpt_replies)):
        # A relay that opened DATA with no one to deliver to: end it empty, nobody receives it.
        smtp.send(b"." + CRLF)
        smtp.getreply()

    if mail_reply[0] != 250:
        _reset_or_close(smtp, mail_reply[0])
        raise smtplib.SMTPSenderRefused(*mail_reply, sender)
    refused = {address: reply for address, reply in zip(recipients, rcpt_replies) if reply[0] not in (250, 251)}
    if any(code == 421 for code, _ in refused.values()):
        smtp.close()
        raise smtplib.SMTPRecipientsRefused(refused)
    if len(refused) == len(recipients):
        smtp._rset()
        raise smtplib.SMTPRecipientsRefused(refused)
    if data_code != 354:
        _reset_or_close(smtp, data_code)
        raise smtplib.SMTPDataError(data_code, data_reply)

    body = _LEADING_DOT.sub(b"..", message)
    smtp.send(body + (b"." + CRLF if body.endswith(CRLF) else CRLF + b"." + CRLF))
    code, reply = smtp.getreply()
    if code != 250:
        _reset_or_close(smtp, code)
        raise smtplib.SMTPDataError(code, reply)
    return refused


def _reset_or_close(smtp: smtplib.SMTP, code: int) -> None:
    if code == 421:
        smtp.close()
    else:
        smtp._rset()
