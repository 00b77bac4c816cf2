"""AWS's side of SNS for the tests: a CA, a signing certificate, a real HTTPS server that stands in for
`sns.<region>.amazonaws.com` on loopback, and messages signed as SNS signs them (written here from AWS's
documentation, apart from the service's code, so that a mistake in one is not copied into the other)."""

import base64
import json
import ssl
import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

REGION_HOSTS = ("sns.us-east-1.amazonaws.com", "sns.us-west-2.amazonaws.com")
TOPIC = "arn:aws:sns:us-east-1:123456789012:mobilise-ses"
CERT_PATH = "/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem"
CERT_URL = f"https://{REGION_HOSTS[0]}{CERT_PATH}"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(subject: str, key, issuer: str, issuer_key, *, ca=False, hosts=()) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


class Signer:
    """A key and its certificate, as SNS holds them."""

    def __init__(self, ca_key=None):
        self.key = _key()
        self.certificate = _certificate("sns.amazonaws.com", self.key, "Test CA", ca_key or self.key)

    def sign(self, message: dict, version: str = "1", cert_url: str = CERT_URL) -> dict:
        """`message` with SignatureVersion, SigningCertURL and Signature, over its canonical string."""
        signed = {**message, "SignatureVersion": version, "SigningCertURL": cert_url}
        if message["Type"] == "Notification":
            fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        text = "".join(f"{f}\n{signed[f]}\n" for f in fields if f in signed)
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        signed["Signature"] = base64.b64encode(self.key.sign(text.encode(), padding.PKCS1v15(), algorithm)).decode()
        return signed


def now_stamp(ago: timedelta = timedelta(0)) -> str:
    """A Timestamp as SNS writes it: 2012-05-02T00:54:06.655Z."""
    return (datetime.now(UTC) - ago).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def notification(ses_event: dict, **fields) -> dict:
    """The documented HTTP/HTTPS notification (docs.aws.amazon.com/sns/latest/dg/http-notification-json.html),
    its Message the SES event, unsigned."""
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": TOPIC,
        "Message": ses_event if isinstance(ses_event, str) else json.dumps(ses_event),
        "Timestamp": now_stamp(),
        "UnsubscribeURL": f"https://{REGION_HOSTS[0]}/?Action=Unsubscribe&SubscriptionArn={TOPIC}:c9135db0-26c4-47ec"
        "-8998-413945fb5a96",
        **fields,
    }


def subscription_confirmation(kind: str = "SubscriptionConfirmation", **fields) -> dict:
    """The documented subscription confirmation (http-subscription-confirmation-json.html), for our topic."""
    token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b"
    return {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": token,
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the "
        "SubscribeURL included in this message.",
        "SubscribeURL": f"https://{REGION_HOSTS[0]}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={token}",
        "Timestamp": now_stamp(),
        **fields,
    }


class SNSServer:
    """HTTPS on loopback with a certificate for the SNS hosts from the test CA: serves `certificates` by path,
    answers ConfirmSubscription, and keeps each request's path in `requests`."""

    def __init__(self):
        self.ca_key = _key()
        ca = _certificate("Test CA", self.ca_key, "Test CA", self.ca_key, ca=True)
        self.folder = Path(tempfile.mkdtemp(prefix="sns-"))
        self.ca_file = self.folder / "ca.pem"
        self.ca_file.write_bytes(pem(ca))
        server_key = _key()
        (self.folder / "server.pem").write_bytes(
            pem(_certificate(REGION_HOSTS[0], server_key, "Test CA", self.ca_key, hosts=REGION_HOSTS))
        )
        (self.folder / "server.key").write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.certificates: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.folder / "server.pem", self.folder / "server.key")
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path in server.certificates:
                    self._answer(200, server.certificates[self.path])
                elif self.path.startswith("/?Action=ConfirmSubscription&"):
                    self._answer(200, b"<ConfirmSubscriptionResponse/>")
                else:
                    self._answer(404, b"<Error/>")

            def _answer(self, status: int, body: bytes):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def config(self) -> dict:
        """The app's settings that send SNS hosts here, trusting only the test CA."""
        return {
            "SNS_FETCH_CA_FILE": str(self.ca_file),
            "SNS_FETCH_CONNECT_TO": {host: ("127.0.0.1", self.port) for host in REGION_HOSTS},
        }
