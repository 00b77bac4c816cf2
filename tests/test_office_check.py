"""`flask office check CODE`: SPF, DKIM, DMARC and the inbound MX read from a DNS server the test starts on loopback."""

import socket
import time

import pytest
from dnslib import MX, QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from mobilise.offices.dkim_keys import dns_record
from mobilise.offices.dns_check import parse_nameserver

from .builders import make_office
from .test_dkim import ed25519_pem, rsa_pem


class Zone(BaseResolver):
    """Answers what `records` holds ({(name, type): [rdata]}); NXDOMAIN for a name it does not know at all."""

    def __init__(self, records: dict):
        self.records = records
        self.asked: list[tuple[str, str]] = []

    def resolve(self, request, handler):
        reply = request.reply()
        name, kind = str(request.q.qname).rstrip("."), QTYPE[request.q.qtype]
        self.asked.append((name, kind))
        for rdata in self.records.get((name, kind), ()):
            reply.add_answer(RR(request.q.qname, request.q.qtype, rdata=rdata, ttl=60))
        if not any(known == name for known, _ in self.records):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def txt(text: str) -> TXT:
    """A TXT record, cut into strings of 255 as DNS consoles publish a long one."""
    data = text.encode()
    return TXT([data[i : i + 255] for i in range(0, len(data), 255)])


COMPLETE_KEY, PARTIAL_KEY = rsa_pem(2048), ed25519_pem()
RECORDS = {
    ("complete.example", "TXT"): [txt("v=spf1 include:_spf.relay.example -all"), txt("google-site-verification=abc")],
    ("mobilise._domainkey.complete.example", "TXT"): [txt(dns_record(COMPLETE_KEY))],
    ("_dmarc.complete.example", "TXT"): [txt("v=DMARC1; p=quarantine; rua=mailto:d@complete.example")],
    ("bounces.complete.example", "MX"): [MX("mx1.complete.example", 10)],
    ("bounces.complete.example", "TXT"): [txt("v=spf1 ip4:192.0.2.1 -all")],
    # partial: two SPF records, another key at the selector, DMARC only at the parent domain (sp= none)
    ("uk.partial.example", "TXT"): [txt("v=spf1 include:a.example -all"), txt("v=spf1 include:b.example ~all")],
    ("mobilise._domainkey.uk.partial.example", "TXT"): [txt(dns_record(COMPLETE_KEY))],
    ("_dmarc.partial.example", "TXT"): [txt("v=DMARC1; p=reject; sp=none")],
    ("partial.example", "TXT"): [],
}


@pytest.fixture(scope="module")
def nameserver():
    zone = Zone(RECORDS)
    server = DNSServer(zone, address="127.0.0.1", port=0, logger=DNSLogger(logf=lambda _: None))
    server.start_thread()
    yield f"127.0.0.1:{server.server.server_address[1]}", zone
    server.stop()
    server.server.server_close()


@pytest.fixture
def silent_nameserver():
    """A UDP port that takes questions and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


def check(runner, code, server):
    return runner.invoke(args=["office", "check", code, "--nameserver", server])


def test_a_domain_that_publishes_everything_passes(app, runner, nameserver):
    server, zone = nameserver
    app.config["INBOUND_DOMAIN"] = "bounces.complete.example"
    make_office(sender="ua@complete.example", dkim_selector="mobilise", dkim_private_key=COMPLETE_KEY)
    result = check(runner, "GB", server)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "office GB sends from complete.example"
    assert "SPF    present     complete.example" in lines and "v=spf1 include:_spf.relay.example -all" in result.output
    assert "DKIM   present     mobilise._domainkey.complete.example" in lines
    assert "DMARC  present     _dmarc.complete.example" in lines and "policy quarantine" in result.output
    assert "MX     present     bounces.complete.example" in lines and "10 mx1.complete.example." in result.output
    assert "SPF    present     bounces.complete.example" in lines
    assert lines[-1] == "everything checked is published"
    assert ("complete.example", "TXT") in zone.asked


def test_a_partial_domain_is_told_what_is_wrong(app, runner, nameserver):
    server, _ = nameserver
    make_office(sender="ua@uk.partial.example", dkim_selector="mobilise", dkim_private_key=PARTIAL_KEY)
    result = check(runner, "GB", server)
    assert result.exit_code == 1
    out = result.output
    assert "SPF    wrong       uk.partial.example" in out and "2 SPF records" in out and "merge them into one" in out
    assert "DKIM   wrong       mobilise._domainkey.uk.partial.example" in out and "not the office's" in out
    assert dns_record(PARTIAL_KEY) in out  # the exact record to publish instead
    assert "DMARC  present     _dmarc.partial.example" in out and "policy none, inherited from partial.example" in out
    assert "MX" not in out  # no INBOUND_DOMAIN, no MX to check
    assert out.splitlines()[-1].startswith("2 to fix (SPF, DKIM)")


def test_a_domain_that_publishes_nothing_gets_every_record_to_publish(app, runner, nameserver):
    server, _ = nameserver
    app.config["INBOUND_DOMAIN"] = "bounces.missing.example"
    make_office(sender="ua@missing.example", dkim_selector="s1", dkim_private_key=COMPLETE_KEY)
    result = check(runner, "gb", server)
    assert result.exit_code == 1
    out = result.output
    assert "SPF    missing     missing.example" in out and '"v=spf1 include:' in out
    assert "DKIM   missing     s1._domainkey.missing.example" in out and f'"{dns_record(COMPLETE_KEY)}"' in out
    assert "DMARC  missing     _dmarc.missing.example" in out and '"v=DMARC1; p=none;' in out
    assert "MX     missing     bounces.missing.example" in out and "bounces.missing.example. MX 10" in out
    assert out.splitlines()[-1].startswith("5 to fix (SPF, DKIM, DMARC, SPF, MX)")


def test_an_office_without_a_key_has_its_dkim_not_checked(app, runner, nameserver):
    server, _ = nameserver
    make_office(sender="ua@complete.example")
    result = check(runner, "GB", server)
    assert result.exit_code == 0, result.output
    assert "DKIM   not checked *._domainkey.complete.example" in result.output
    assert "flask office update GB --dkim-selector" in result.output


def test_a_nameserver_that_does_not_answer_is_said_so_quickly(app, runner, silent_nameserver):
    make_office(sender="ua@complete.example")
    started = time.monotonic()
    result = check(runner, "GB", silent_nameserver)
    assert time.monotonic() - started < 8
    assert result.exit_code == 1
    assert f"the nameserver {silent_nameserver} did not answer within 3 s" in result.output


def test_the_nameserver_comes_from_the_configuration_too(app, runner, nameserver):
    server, _ = nameserver
    app.config["DNS_NAMESERVER"] = server
    make_office(sender="ua@complete.example")
    assert runner.invoke(args=["office", "check", "GB"]).exit_code == 0
    assert runner.invoke(args=["office", "check", "XX"]).exit_code == 1


def test_nameserver_addresses():
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("192.0.2.53") == ("192.0.2.53", 53)
    assert parse_nameserver("[::1]:5353") == ("::1", 5353)
    assert parse_nameserver("::1") == ("::1", 53)
    assert parse_nameserver("[::1]") == ("::1", 53)
    for wrong in ("127.0.0.1:99999", "127.0.0.1:dns", "127.0.0.1:"):
        with pytest.raises(ValueError, match="not HOST"):
            parse_nameserver(wrong)


def test_a_nameserver_that_is_not_one_is_said_so(app, runner):
    make_office()
    result = runner.invoke(args=["office", "check", "GB", "--nameserver", "127.0.0.1:0"])
    assert result.exit_code == 1 and "is not HOST[:PORT]" in result.output
