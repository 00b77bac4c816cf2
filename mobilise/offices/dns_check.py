"""What the sender's domain publishes in DNS for mailbox providers to trust its mail: SPF, DKIM, DMARC, and an MX
for the inbound domain. Each finding says what is there, or the record to publish (`flask office check CODE`).

Answers come from one resolver with a short lifetime, so a nameserver that does not answer ends the check
with a clear `DnsUnreachable` in seconds instead of hanging.
"""

import ipaddress
import socket
from dataclasses import dataclass

import dns.exception
import dns.resolver

from .dkim_keys import dns_record, public_value, record_name
from .models import Office

LIFETIME = 3.0  # seconds for each question, retries included
DMARC_POLICIES = ("none", "quarantine", "reject")


class DnsUnreachable(Exception):
    """No answer from the nameserver: nothing can be told of the domain."""


@dataclass(frozen=True)
class Finding:
    what: str  # SPF, DKIM, DMARC, MX
    name: str  # the DNS name asked
    status: str  # present | missing | wrong | not checked
    detail: str  # what was found, or what to publish

    @property
    def ok(self) -> bool:
        return self.status in ("present", "not checked")


def parse_nameserver(value: str) -> tuple[str, int]:
    """HOST[:PORT] (an IPv6 address as [ADDRESS]:PORT) → (IP address, port); ValueError when it names none."""
    host, port = value.strip(), "53"
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":") or port
    elif host.count(":") == 1:
        host, port = host.split(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"the nameserver {value!r} is not HOST[:PORT] with a port from 1 to 65535")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            host = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0][4][0]
        except OSError:
            raise ValueError(f"the nameserver {value!r} names no host this machine can find") from None
    return host, int(port)


class Lookup:
    """The questions of one check, to `nameserver` (HOST[:PORT]) or else the system's resolver."""

    def __init__(self, nameserver: str | None = None, lifetime: float = LIFETIME):
        if nameserver:
            address, port = parse_nameserver(nameserver)
            self.resolver = dns.resolver.Resolver(configure=False)
            self.resolver.nameservers, self.resolver.port = [address], port
            self.server = nameserver
        else:
            try:
                self.resolver = dns.resolver.Resolver()
            except dns.resolver.NoResolverConfiguration:
                raise DnsUnreachable("this machine has no nameserver configured: give one with --nameserver") from None
            self.server = ", ".join(str(n) for n in self.resolver.nameservers)
        self.resolver.lifetime, self.resolver.timeout = lifetime, min(lifetime, 1.0)

    def answers(self, name: str, kind: str) -> list:
        try:
            return list(self.resolver.resolve(name + ".", kind, search=False))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.Timeout:
            raise DnsUnreachable(
                f"the nameserver {self.server} did not answer within {self.resolver.lifetime:g} s "
                f"(asking {kind} {name}): check it, or give another with --nameserver"
            ) from None
        except dns.resolver.NoNameservers as error:
            raise DnsUnreachable(f"the nameserver {self.server} could not answer {kind} {name}: {error}") from None

    def txt(self, name: str) -> list[str]:
        """Each TXT record at `name`, its strings joined (a record over 255 characters comes in several)."""
        return [b"".join(answer.strings).decode("utf-8", "replace") for answer in self.answers(name, "TXT")]


def tags(record: str) -> dict[str, str]:
    """`v=DKIM1; k=rsa; p=…` → {"v": "DKIM1", …}, whitespace removed as RFC 6376 and 7489 allow."""
    found = {}
    for part in record.split(";"):
        name, equals, value = part.partition("=")
        if equals:
            found[name.strip().lower()] = "".join(value.split())
    return found


def check_office(
    office: Office, *, nameserver: str | None = None, inbound_domain: str | None = None, lifetime: float = LIFETIME
) -> list[Finding]:
    """What the office's sender domain (and the inbound domain, when there is one) publishes. Raises DnsUnreachable."""
    lookup = Lookup(nameserver, lifetime)
    domain = office.sender_domain
    findings = [spf(lookup, domain), dkim(lookup, office, domain), dmarc(lookup, domain)]
    if inbound_domain:
        findings += [spf(lookup, inbound_domain, envelope=True), mx(lookup, inbound_domain)]
    return findings


def spf(lookup: Lookup, domain: str, envelope: bool = False) -> Finding:
    """`envelope`: the domain of the envelope sender (INBOUND_DOMAIN's bounce addresses), which SPF checks."""
    role = "the envelope sender's domain (INBOUND_DOMAIN): " if envelope else ""
    records = [r for r in lookup.txt(domain) if r.lower() == "v=spf1" or r.lower().startswith("v=spf1 ")]
    if not records:
        return Finding(
            "SPF",
            domain,
            "missing",
            role + "publish one TXT record naming the hosts that send for the domain, "
            'e.g. "v=spf1 include:YOUR-RELAY\'S-SPF-DOMAIN -all" (the relay documents what to include)',
        )
    if len(records) > 1:
        return Finding(
            "SPF",
            domain,
            "wrong",
            role + f"{len(records)} SPF records, and receivers treat more than one as an "
            "error (RFC 7208, 4.5): merge them into one: " + " | ".join(records),
        )
    return Finding("SPF", domain, "present", role + records[0])


def dkim(lookup: Lookup, office: Office, domain: str) -> Finding:
    if not (office.dkim_selector and office.dkim_private_key):
        return Finding(
            "DKIM",
            f"*._domainkey.{domain}",
            "not checked",
            "the office has no DKIM key, so Mobilise sends its mail unsigned: if the relay does not sign it, "
            f"set one (flask office update {office.code} --dkim-selector S --dkim-key-file KEY.pem)",
        )
    name, expected = record_name(office.dkim_selector, domain), dns_record(office.dkim_private_key)
    records = [tags(r) for r in lookup.txt(name)]
    keys = [r for r in records if "p" in r]
    publish = f'publish this TXT record (one record; a DNS console splits it into strings of 255): "{expected}"'
    if not keys:
        return Finding("DKIM", name, "missing", publish)
    if any(r["p"] == public_value(office.dkim_private_key) for r in keys):
        return Finding("DKIM", name, "present", "the office's public key, as published")
    if all(r["p"] == "" for r in keys):
        return Finding("DKIM", name, "wrong", "the key published here is revoked (empty p=): " + publish)
    return Finding("DKIM", name, "wrong", "the key published here is not the office's: " + publish)


def dmarc(lookup: Lookup, domain: str) -> Finding:
    """The policy at _dmarc.DOMAIN, else at a parent domain's (the organisational domain's policy covers its
    subdomains, RFC 7489 6.6.3, by its `sp=` where it has one)."""
    labels = domain.split(".")
    for start in range(0, max(len(labels) - 1, 1)):
        at = ".".join(labels[start:])
        records = [r for r in lookup.txt(f"_dmarc.{at}") if "".join(r.split()).lower().startswith("v=dmarc1")]
        if records:
            break
    else:
        return Finding(
            "DMARC",
            f"_dmarc.{domain}",
            "missing",
            f'publish a TXT record: "v=DMARC1; p=none; '
            f'rua=mailto:dmarc-reports@{domain}" (a start that Gmail and Yahoo accept for bulk senders; '
            "move to quarantine or reject once the reports show the office's mail passes)",
        )
    name = f"_dmarc.{at}"
    if len(records) > 1:
        return Finding("DMARC", name, "wrong", f"{len(records)} DMARC records: receivers then apply none; keep one")
    found = tags(records[0])
    policy = (found.get("sp") if at != domain and "sp" in found else found.get("p", "")).lower()
    if policy not in DMARC_POLICIES:
        return Finding("DMARC", name, "wrong", f"no valid policy (p=none, quarantine or reject): {records[0]}")
    inherited = f", inherited from {at}" if at != domain else ""
    return Finding("DMARC", name, "present", f"policy {policy}{inherited}: {records[0]}")


def mx(lookup: Lookup, domain: str) -> Finding:
    answers = sorted((answer.preference, str(answer.exchange)) for answer in lookup.answers(domain, "MX"))
    if not answers:
        return Finding(
            "MX",
            domain,
            "missing",
            f"publish an MX record for the bounces and replies flask inbound "
            f"receives: {domain}. MX 10 THE-HOST-RUNNING-FLASK-INBOUND.",
        )
    return Finding("MX", domain, "present", ", ".join(f"{preference} {host}" for preference, host in answers))
