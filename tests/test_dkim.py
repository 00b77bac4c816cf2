"""DKIM where the relay does not sign: an office's key, and every email of it signed, verified on what the relay got."""

import base64
from functools import cache

import dkim
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from mobilise.extensions import db
from mobilise.models import Delivery, Office
from mobilise.offices.dkim_keys import load_key
from mobilise.sending import dkim as signing
from mobilise.sending.composer import Composer
from mobilise.sending.message import Unsendable
from mobilise.sequences.dispatch import start_drive
from mobilise.supporters.service import upsert_supporters

from .builders import bearer, make_case, make_office, make_supporters, token_for
from .conftest import Relay


@cache
def rsa_pem(bits: int = 2048, password: bytes | None = None) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()


@cache
def ed25519_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def dns_for(office: Office):
    """A dnsfunc for dkim.verify that answers the office's selector with the record it publishes, nothing else."""
    published = office.dkim()
    record, name = published["public_key"].encode(), (published["name"] + ".").encode()
    return lambda asked, timeout=5: record if asked == name else None


def verified(content: bytes, office: Office) -> bool:
    return dkim.verify(content, dnsfunc=dns_for(office))


# Too short to sign with (cryptography will not make one): a throwaway made with `openssl genpkey`.
RSA_512 = """-----BEGIN PRIVATE KEY-----
MIIBVgIBADANBgkqhkiG9w0BAQEFAASCAUAwggE8AgEAAkEAwTiE1BpLWNLplush
HGlelQpfrHfX9cBwqLRx2IGxkBOm7MxtwilMVTr5pxmJ+TasslAnK0XIugFpSkuS
yEbD6QIDAQABAkEAl6WwOnfYowIF6zjnZ9EbNoZJyKbWjD5ZLU9R+sbvgU9N+FGb
9I4yAl3vuUeXBwNsJzCR6DGHW7JGrRyuwNuasQIhAOSxPTemrEuYKu0SbmAunh9r
9HamRAg0UUXPX1p16UMjAiEA2Er4ceakITTAU39uEDdcwG0OYWFp6gZYyhNInWNg
A4MCIQC+YmsDTGc9W4XI7UIkIksS/415xTr31Y4fXt8T8PtrHwIgVBry+PeCoxbs
IovOtKeSfZDqoptKoCHPrORKvEjEMRkCIQCp1EgeQRXlzy5tSk0rbBbTqnG5spHx
sO1xNtmqm1579g==
-----END PRIVATE KEY-----
"""


def signed_office(**overrides) -> Office:
    return make_office(dkim_selector="mobilise2026", dkim_private_key=rsa_pem(), **overrides)


@pytest.fixture(params=["pipelined", "plain"])
def own_relay(request, app):
    """A relay of this test's own for office GB, with SMTPUTF8, pipelining or not: both ways a message leaves."""
    server = Relay(pipelining=request.param == "pipelined", smtputf8=True)
    server.controller.start()
    app.config["MAIL_RELAYS"] = [{"name": "own", "server": "127.0.0.1", "port": server.port, "offices": ["GB"]}]
    app.extensions.pop("mobilise.relays", None)
    yield server
    server.controller.stop()


def test_a_mailing_is_signed_and_verifies_on_the_bytes_the_relay_received(app, own_relay, run_jobs):
    office = signed_office()
    make_supporters(office, 4)
    upsert_supporters(office, [{"email": "josé@example.org", "first_name": "José"}])  # SMTPUTF8: UTF-8 in To
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()

    received = own_relay.received
    assert sorted(r for e in received for r in e.rcpt_tos) == [
        "josé@example.org",
        *(f"person{n}@gb.example.net" for n in range(4)),
    ]
    assert [e.smtp_utf8 for e in received].count(True) == 1
    for envelope in received:
        assert envelope.content.startswith(b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=uk.example.org;")
        assert verified(envelope.content, office), envelope.rcpt_tos
    signature = dkim.DKIM(received[0].content)
    assert signature.verify(dnsfunc=dns_for(office))
    assert {
        b"list-unsubscribe",
        b"list-unsubscribe-post",
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"reply-to",
        b"mime-version",
        b"content-type",
    } <= set(signature.include_headers)


def test_altering_a_signed_header_or_the_body_breaks_the_signature(app, own_relay, run_jobs):
    office = signed_office()
    make_supporters(office, 1)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    [envelope] = own_relay.received
    content = envelope.content
    assert verified(content, office)
    head, body = content.split(b"\r\n\r\n", 1)
    tampered = [
        content.replace(
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: List-Unsubscribe=Two"
        ),
        content.replace(b"\r\nSubject: ", b"\r\nSubject: Re: "),
        head + b"\r\nReply-To: someone@evil.example\r\n\r\n" + body,  # a verifier reads the last one
        head + b"\r\nFrom: Someone Else <ua@uk.example.org>\r\n\r\n" + body,  # From is signed twice: none can be added
        head + b"\r\n\r\n" + body.replace(b"Eduardo", b"Edward", 1),
    ]
    assert all(changed != content for changed in tampered)
    assert [verified(changed, office) for changed in tampered] == [False] * 5
    refolded = content.replace(b"\r\nSubject: ", b"\r\nSubject:\r\n\t ")  # relaxed: a relay may refold a header
    assert verified(refolded, office)


def test_a_reply_to_the_office_does_not_have_cannot_be_added(app, relay, run_jobs):
    office = signed_office(reply_to=None)
    make_supporters(office, 1)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    [envelope] = relay.received
    head, body = envelope.content.split(b"\r\n\r\n", 1)
    assert b"\r\nReply-To:" not in head and verified(envelope.content, office)
    assert not verified(head + b"\r\nReply-To: someone@evil.example\r\n\r\n" + body, office)  # signed as absent


class Ed25519Check:
    """dkimpy verifies Ed25519 with PyNaCl, which Mobilise does not need: its own verification, run here with the
    public key of cryptography in PyNaCl's place (`verify(message, signature)`, raising when it does not hold)."""

    def __init__(self, public):
        self.public = public

    def verify(self, message, signature):
        self.public.verify(signature, message)


def ed25519_verified(content: bytes, pem: str) -> bool:
    checker = dkim.DKIM(content)
    sig, include_headers, sig_headers = checker.verify_headerprep()
    checker.pk, checker.ktag, checker.keysize = Ed25519Check(load_key(pem).public_key()), b"ed25519", 256
    try:
        return checker.verify_sig_process(sig, include_headers, sig_headers[0], None)
    except (InvalidSignature, dkim.ValidationError):
        return False


def test_an_ed25519_key_signs_with_ed25519(app, own_relay, run_jobs):
    office = make_office(dkim_selector="ed", dkim_private_key=ed25519_pem())
    make_supporters(office, 1)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    [envelope] = own_relay.received
    assert b"a=ed25519-sha256" in envelope.content.split(b"\r\n\r\n")[0]
    assert (
        office.dkim()["public_key"]
        == "v=DKIM1; k=ed25519; p=" + base64.b64encode(load_key(ed25519_pem()).public_key().public_bytes_raw()).decode()
    )
    assert ed25519_verified(envelope.content, ed25519_pem())
    assert not ed25519_verified(envelope.content.replace(b"Eduardo", b"Edward", 1), ed25519_pem())


def test_an_office_without_a_key_sends_unsigned_mail_as_before(app, relay, run_jobs):
    office = make_office()
    assert office.dkim() is None and office.to_dict()["dkim"] is None
    make_supporters(office, 2)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    assert len(relay.received) == 2
    assert all(b"DKIM-Signature" not in e.content for e in relay.received)


def test_the_sign_up_confirmation_is_signed(app, client, relay, run_jobs):
    office = signed_office()
    answer = client.post(
        "/subscribe/GB", data={"email": "rocio@example.org"}, environ_base={"REMOTE_ADDR": "198.51.100.23"}
    )
    assert answer.status_code == 202
    run_jobs()
    [envelope] = relay.received
    assert envelope.content.startswith(b"DKIM-Signature: ") and verified(envelope.content, office)


def test_a_visitors_confirmation_is_signed(app, client, relay, run_jobs):
    office = signed_office()
    case = make_case()
    start_drive(case, office, {"office": "GB"})
    run_jobs()  # the launch: nobody on the list
    answer = client.post(
        f"/cases/{case.slug}/actions?office=GB",
        data={"email": "visitor@example.org"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    assert answer.status_code == 202
    run_jobs()
    [envelope] = relay.received
    assert envelope.rcpt_tos == ["visitor@example.org"] and verified(envelope.content, office)


def test_a_test_email_is_signed(app, client, relay):
    office = signed_office()
    case = make_case()
    staff = token_for("staff@uk.example.org", office="GB")
    sent = client.post(f"/api/v1/cases/{case.id}/test-email", json={}, headers=bearer(staff))
    assert sent.status_code == 202, sent.json
    [envelope] = relay.received
    assert b"Subject: [TEST]" in envelope.content and verified(envelope.content, office)


def test_a_message_that_cannot_be_signed_fails_alone(app, relay, run_jobs, monkeypatch):
    office = signed_office()
    make_supporters(office, 4)
    sign = signing.Signer._signature

    def failing_for_person2(self, message):
        if b"To: person2@" in message:
            raise ValueError("cannot sign this one")
        return sign(self, message)

    monkeypatch.setattr(signing.Signer, "_signature", failing_for_person2)
    start_drive(make_case(), office, {"office": "GB"})
    run_jobs()
    assert relay.recipients() == ["person0@gb.example.net", "person1@gb.example.net", "person3@gb.example.net"]
    failed = db.session.execute(db.select(Delivery.status, Delivery.error).where(Delivery.status != "sent")).all()
    assert [(status, error) for status, error in failed] == [("failed", "signing the message failed (ValueError)")]


def test_a_key_that_cannot_be_loaded_makes_each_message_unsendable(app):
    signer = signing.Signer("s", "uk.example.org", "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    with pytest.raises(Unsendable) as error:
        signer.sign(b"From: a@uk.example.org\r\n\r\nbody\r\n")
    assert "signing the message failed" in str(error.value)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\r\n",
        b"\r\n\r\n",
        b"a",
        b"a \r\n",
        b" \t \r\n\r\n \r\n",
        b"\tx\t\ty  z \t\r\nend \t",
        b"<td   style=x>  hello\t world  \t \r\n    <p> a  b\r\n\r\n \r\n" * 20,
    ],
)
def test_the_relaxed_body_is_dkimpys_own(body):
    assert signing.relaxed_body(body) == dkim.canonicalization.Relaxed.canonicalize_body(body)


def test_the_relaxed_body_of_a_real_email_is_dkimpys_own(app):
    office = signed_office()
    make_supporters(office, 1)
    drive = start_drive(make_case(), office, {"office": "GB"})
    composer = Composer(next(m for m in drive.mailings if m.stage == "launch"))
    body = (
        composer.spliced(1, email="ana@example.net", first_name="Ana", language=None)
        .as_bytes()
        .split(b"\r\n\r\n", 1)[1]
    )
    assert b"  " in body  # the HTML's indentation: what the faster way is for
    assert signing.relaxed_body(body) == dkim.canonicalization.Relaxed.canonicalize_body(body)


# ---- setting the key: API and command line


def test_staff_set_a_key_and_see_only_its_public_record(app, client):
    make_office()
    staff = token_for("staff@uk.example.org", office="GB")
    pem = rsa_pem()
    secret_line = pem.splitlines()[5]
    answer = client.patch(
        "/api/v1/offices/GB", json={"dkim_selector": "Mobilise2026", "dkim_private_key": pem}, headers=bearer(staff)
    )
    assert answer.status_code == 200, answer.json
    dkim_out = answer.json["dkim"]
    assert dkim_out["selector"] == "mobilise2026" and dkim_out["name"] == "mobilise2026._domainkey.uk.example.org"
    assert dkim_out["public_key"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN")
    listed = client.get("/api/v1/offices", headers=bearer(staff))
    for response in (answer, listed):
        assert secret_line not in response.get_data(as_text=True) and "PRIVATE" not in response.get_data(as_text=True)
    assert listed.json[0]["dkim"] == dkim_out
    # The logo is left as it was by a call that does not name it, and the other way round.
    assert (
        client.patch(
            "/api/v1/offices/GB", json={"logo_url": "https://uk.example.org/logo.png"}, headers=bearer(staff)
        ).json["dkim"]
        == dkim_out
    )
    removed = client.patch(
        "/api/v1/offices/GB", json={"dkim_selector": None, "dkim_private_key": None}, headers=bearer(staff)
    )
    assert removed.status_code == 200 and removed.json["dkim"] is None
    assert removed.json["logo_url"] == "https://uk.example.org/logo.png"
    assert db.session.scalar(db.select(Office.dkim_private_key)) is None


@pytest.mark.parametrize(
    "key, why",
    [
        ("not a key", "PEM"),
        (rsa_pem().replace("A", "B", 40), "not a private key that can be read"),
        (rsa_pem(2048, b"secret"), "encrypted"),
        (RSA_512, "1024 to 4096 bits, not 512"),
        ("-----BEGIN PRIVATE KEY-----\n\u00e9\n-----END PRIVATE KEY-----", "not a private key that can be read"),
    ],
)
def test_a_key_that_does_not_do_is_a_422_naming_the_field_and_never_quoting_it(app, client, key, why):
    make_office()
    admin = token_for("admin@example.org", admin=True)
    answer = client.patch(
        "/api/v1/offices/GB", json={"dkim_selector": "s1", "dkim_private_key": key}, headers=bearer(admin)
    )
    assert answer.status_code == 422
    [detail] = answer.json["details"]
    assert detail["field"] == "dkim_private_key" and why in detail["error"]
    body = answer.get_data(as_text=True)
    assert all(line not in body for line in key.splitlines() if len(line) > 8 and "-----" not in line)
    assert db.session.scalar(db.select(Office.dkim_private_key)) is None


def test_selector_and_key_go_together_and_the_selector_is_a_dns_name(app, client):
    make_office()
    admin = token_for("admin@example.org", admin=True)
    alone = client.patch("/api/v1/offices/GB", json={"dkim_private_key": rsa_pem()}, headers=bearer(admin))
    assert alone.status_code == 422 and "dkim_selector is missing" in alone.json["details"][0]["error"]
    bad = client.patch(
        "/api/v1/offices/GB", json={"dkim_selector": "a b", "dkim_private_key": ed25519_pem()}, headers=bearer(admin)
    )
    assert bad.status_code == 422 and [d["field"] for d in bad.json["details"]] == ["dkim_selector"]
    made = client.post(
        "/api/v1/offices",
        headers=bearer(admin),
        json={
            "code": "IE",
            "name": "Amnesty Ireland",
            "language": "en",
            "timezone": "Europe/Dublin",
            "sender": "ua@ie.example.org",
            "dkim_selector": "k1.mobilise",
            "dkim_private_key": ed25519_pem(),
        },
    )
    assert made.status_code == 201 and made.json["dkim"]["name"] == "k1.mobilise._domainkey.ie.example.org"


def test_the_command_line_sets_and_removes_a_key(app, runner, tmp_path):
    key_file = tmp_path / "dkim.pem"
    key_file.write_text(rsa_pem(1024))
    made = runner.invoke(
        args=[
            "office",
            "create",
            "IE",
            "--name",
            "Amnesty Ireland",
            "--language",
            "en",
            "--timezone",
            "Europe/Dublin",
            "--sender",
            "ua@ie.example.org",
            "--dkim-selector",
            "k1",
            "--dkim-key-file",
            str(key_file),
        ]
    )
    assert made.exit_code == 0, made.output
    assert "publish this TXT record at k1._domainkey.ie.example.org" in made.output
    assert "v=DKIM1; k=rsa; p=MIGfMA0" in made.output and "PRIVATE" not in made.output
    key_file.write_text(ed25519_pem())
    changed = runner.invoke(args=["office", "update", "ie", "--dkim-selector", "k2", "--dkim-key-file", str(key_file)])
    assert changed.exit_code == 0, changed.output
    assert "k2._domainkey.ie.example.org" in changed.output and "k=ed25519" in changed.output
    key_file.write_text("nonsense")
    refused = runner.invoke(args=["office", "update", "IE", "--dkim-selector", "k3", "--dkim-key-file", str(key_file)])
    assert refused.exit_code != 0 and "dkim_private_key" in refused.output
    removed = runner.invoke(args=["office", "update", "IE", "--no-dkim"])
    assert removed.exit_code == 0 and "DKIM: none" in removed.output
    assert db.session.scalar(db.select(Office.dkim_selector).where(Office.code == "IE")) is None
    assert runner.invoke(args=["office", "update", "IE"]).exit_code != 0
