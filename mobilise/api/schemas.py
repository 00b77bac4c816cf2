"""What the API reads where no service has a model of its own, and what it answers.

The request models here validate (the routes parse with them); the answer models describe what the
services' `to_dict`s write, so the OpenAPI description and the fuzzer's schema check say the same thing.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, RootModel

from ..cases.regions import REGIONS
from ..sending.preview import PreviewIn
from ..sequences.lifecycle import ClosureIn, ExtensionIn, UpdateIn
from ..sequences.models import AUDIENCES, STAGES
from ..supporters.models import STATUSES
from ..validation import LARGEST_INTEGER, EmailAddress, Language, Strict


def _empty_is_none(value):
    """`?status=` with nothing after it means no filter, as a form sends it."""
    return None if value == "" else value


def Optional(kind):  # noqa: N802  a type, as it reads in a model
    return Annotated[kind | None, BeforeValidator(_empty_is_none)]


# ---- requests


class SupporterQuery(Strict):
    status: Optional(Literal[STATUSES]) = None
    tag: Optional(str) = Field(default=None, max_length=100)
    q: Optional(str) = Field(
        default=None, max_length=320, description="found in a name or an address, ignoring accents and case"
    )
    page: int = Field(default=1, ge=1, le=LARGEST_INTEGER)  # past the end: no items
    per_page: int = Field(default=50, ge=1, le=500)
    after: Optional(int) = Field(
        default=None,
        ge=0,
        le=LARGEST_INTEGER,
        description="only supporters with a larger id, `page` counting from there: give the last id of a page to "
        "get the next, at the same cost however far down the list",
    )


class AuditQuery(Strict):
    office: Optional(str) = Field(
        default=None,
        pattern=r"^([A-Za-z]{2})?$",
        description="one office's entries (an office's manager sees only their own); empty: no filter",
    )
    action: Optional(str) = Field(default=None, max_length=50, description="one action, e.g. supporter.erased")
    page: int = Field(default=1, ge=1, le=LARGEST_INTEGER)  # past the end: no items
    per_page: int = Field(default=50, ge=1, le=500)


class SupporterLookup(Strict):
    """Export and erase name one supporter by address."""

    email: EmailAddress


class CaseDocument(Strict):
    """A UA document sent as JSON instead of plain text."""

    text: str = Field(min_length=1)


class PreviewRequest(PreviewIn):
    """A preview or a test email; an office's staff preview for their own office, an admin names one."""

    office: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")


class PreviewQuery(PreviewRequest):
    """The same, in a query string: a URL has room for a short body only (a server refuses a long request
    line before the app sees it); a longer one is tried with the test email, whose body has room."""

    body: str | None = Field(default=None, max_length=300)


def _listed(value):
    """`tags=a,b` or `tags=a&tags=b`: the words of a query's list, either way."""
    values = value if isinstance(value, list) else [value]
    return [word.strip() for item in values if isinstance(item, str) for word in item.split(",") if word.strip()]


class AudienceQuery(Strict):
    """A launch not yet made: the office, and the drive's tag and language filters (comma-separated or repeated)."""

    office: str = Field(pattern=r"^[A-Za-z]{2}$")
    tags: Annotated[list[Annotated[str, Field(max_length=100)]], BeforeValidator(_listed), Field(max_length=200)] = (
        Field(default_factory=list)
    )
    languages: Annotated[list[Language], BeforeValidator(_listed), Field(max_length=50)] = Field(default_factory=list)


class CaseChange(RootModel[Annotated[UpdateIn | ExtensionIn | ClosureIn, Field(discriminator="kind")]]):
    """News, more time, or the end of a case."""


# ---- answers


class ErrorOut(BaseModel):
    error: str
    details: Any = Field(default=None, description='null, or for a 422 the list of [{"field", "error"}]')


class TargetOut(BaseModel):
    name: str
    title: str | None
    address: str | None
    salutation: str | None
    email: str | None


class TranslatedTargetOut(BaseModel):
    title: str | None
    salutation: str | None


class TranslationOut(BaseModel):
    title: str | None
    summary: str | None
    pronoun: str | None
    target: TranslatedTargetOut
    model_letter: str | None
    additional_information: str | None


class CaseOut(BaseModel):
    id: int
    slug: str
    reference: str | None
    ai_index: str | None
    title: str
    country: str | None
    region: Literal[REGIONS] | None = Field(description="read from the country; None when it names none we know")
    themes: list[str]
    people: list[str]
    pronoun: str | None
    summary: str | None
    target: TargetOut
    target_language: str | None
    model_letter: str
    additional_information: str | None
    deadline: date
    days_left: int = Field(ge=0)
    previous_reference: str | None
    language: str
    high_risk: bool
    status: Literal["draft", "live", "closed"]
    outcome: Literal["good_news", "no_further_action"] | None
    translations: dict[str, TranslationOut]
    languages: list[str] = Field(
        description="the languages the case reads whole in: its own and each complete translation"
    )
    missing: dict[str, list[str]] = Field(
        description="per incomplete translation, the fields it still lacks (it is not used until it has them)"
    )


class Paused(BaseModel):
    reason: str | None
    until: datetime | None


class MailingOut(BaseModel):
    id: int
    office: str
    stage: Literal[STAGES]
    audience: Literal[AUDIENCES]
    send_at: datetime
    status: Literal["planned", "sending", "sent", "cancelled"]
    paused: Paused | None


class AudienceOut(BaseModel):
    total: int
    languages: dict[str, int] = Field(description="recipients by the language they will read")
    fallback: dict[str, int] = Field(description="recipients whose own language the case lacks, by their own language")
    left_out: dict[Literal["paused", "regions", "themes", "frequency"], int] = Field(
        description="subscribed supporters their own preferences leave out, by the first reason that holds "
        "(paused, then regions, then themes); not in `total`"
    )


class DriveOut(BaseModel):
    id: int
    case: int
    office: str
    deadline: date
    tags: list[str]
    languages: list[str]
    mailings: list[MailingOut]
    audience: AudienceOut | None = Field(
        default=None, description="at launch: who it reaches, by the language they read"
    )


class ChangeOut(BaseModel):
    case: CaseOut
    mailings: list[MailingOut]


class Counts(BaseModel):
    recipients: int
    sent: int
    failed: int
    bounced: int
    opened: int
    opened_human: int
    clicked: int
    acted: int
    unsubscribed: int


class MailingCounts(MailingOut, Counts):
    pass


class ActionsOnDay(BaseModel):
    date: date
    office: str
    actions: int


class StatsOut(BaseModel):
    case: int
    deadline: date
    days_left: int = Field(ge=0)
    totals: Counts
    offices: dict[str, Counts]
    mailings: list[MailingCounts]
    actions_by_day: list[ActionsOnDay]


class PreviewOut(BaseModel):
    stage: Literal[STAGES]
    audience: Literal[AUDIENCES]
    language: str
    subject: str
    text: str
    html: str


class TestEmailOut(BaseModel):
    sent_to: str
    subject: str


class DkimOut(BaseModel):
    """The public half of an office's DKIM key, for IT to publish (the private key is never shown)."""

    selector: str
    name: str = Field(description="where the TXT record goes: SELECTOR._domainkey.DOMAIN")
    public_key: str = Field(description="the TXT record: v=DKIM1; k=rsa; p=…")


class OfficeOut(BaseModel):
    code: str
    name: str
    language: str
    timezone: str
    sender: str
    sender_name: str | None
    reply_to: str | None
    address: str
    send_hour: int
    reminder_days: list[int]
    logo_url: str | None
    dkim: DkimOut | None
    themes: list[str] = Field(description="the themes its preference page offers supporters to choose cases by")


class UnsubscribesInMonth(BaseModel):
    month: str = Field(description="YYYY-MM, UTC")
    before_page: int = Field(description="unsubscribes before the office's emails linked to the preference page")
    after_page: int


class PreferenceStatsOut(BaseModel):
    office: str
    subscribed: int
    chose_fewer: int = Field(description="subscribed supporters who chose regions or themes, fewer emails, or a pause")
    regions: dict[str, int] = Field(description="how many chose each region (those who chose none get every region)")
    themes: dict[str, int]
    launch_and_last: int = Field(description="how many take a case's launch and its last reminder only")
    paused: int = Field(description="how many are paused today")
    page_since: datetime = Field(description="since when the office's emails link to the preference page")
    unsubscribes_by_month: list[UnsubscribesInMonth]


class SupporterOut(BaseModel):
    id: int
    email: str | None
    first_name: str
    last_name: str
    language: str | None
    status: Literal[STATUSES]
    tags: list[str]
    consent_source: str | None
    consent_at: datetime | None


class SupporterPage(BaseModel):
    items: list[SupporterOut]
    page: int
    per_page: int
    total: int


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str = Field(
        description='the account\'s address at the time, "command line", or for a failed sign-in the address tried'
    )
    office: str | None = Field(description="the office the act concerns, else the actor's")
    action: str = Field(description="a dotted name, e.g. drive.launched (the README lists them)")
    subject: str | None = Field(description='what it was done to, by id: "case 12", "supporter 3401", …')
    details: dict[str, Any] = Field(description="counts and the names of fields changed; never personal data")
    network: str | None = Field(description="the requester's network (/24, /48); none from the command line")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    page: int
    per_page: int
    total: int


class RejectedRow(BaseModel):
    index: int
    email: Any = Field(description="the row's email as sent, whatever it was")
    error: str


class UpsertOut(BaseModel):
    created: int
    updated: int
    rejected: list[RejectedRow]


class ImportQueued(BaseModel):
    id: int


class ImportRowError(BaseModel):
    line: int
    error: str


class ImportOut(BaseModel):
    id: int
    status: Literal["queued", "running", "done", "failed"]
    filename: str | None
    progress: float
    created: int
    updated: int
    rejected: int
    errors: list[ImportRowError]
    failure: str | None


class ImportUpload(BaseModel):
    file: bytes = Field(description="the CSV file", json_schema_extra={"format": "binary"})


class ExportOut(BaseModel):
    office: str
    supporter: dict[str, Any]
    consent_history: list[dict[str, Any]]
    bounces: list[dict[str, Any]]
    emails: list[dict[str, Any]]
    opens: list[dict[str, Any]]
    clicks: list[dict[str, Any]]
    unsubscribes: list[dict[str, Any]]
    actions: list[dict[str, Any]]


class ErasedOut(BaseModel):
    erased: bool


class BounceOut(BaseModel):
    supporters: int
    stopped: int


class RateLimits(BaseModel):
    near: float = Field(description="at or past it the rate is marked near")
    over: float = Field(description="past it the rate is marked over")


class ReputationThresholds(BaseModel):
    complaint_rate: RateLimits = Field(
        description="Gmail asks for under 0.1%; Gmail, Yahoo and Microsoft reject above 0.3%"
    )
    hard_bounce_rate: RateLimits = Field(
        description="over: GUARD_BOUNCE_RATE, the guard rails' share; near: half of it"
    )
    min_sample: int = Field(description="GUARD_MIN_SAMPLE: fewer emails tried than this is a small sample")


Level = Literal["ok", "near", "over"] | None


class ReputationCounts(BaseModel):
    sent: int = Field(description="emails the relay accepted")
    refused: int = Field(description="emails the relay refused for good at RCPT TO")
    hard_bounces: int = Field(description="emails hard-bounced, each once (refusals included)")
    complaints: int = Field(description="emails marked as spam, each once")
    hard_bounce_rate: float | None = Field(description="hard_bounces / (sent + refused); null when nothing was tried")
    hard_bounce_level: Level
    complaint_rate: float | None = Field(description="complaints / sent; null when nothing was sent")
    complaint_level: Level
    small_sample: bool = Field(description="sent + refused is under min_sample")


class ReputationDomains(BaseModel):
    gmail: ReputationCounts
    microsoft: ReputationCounts
    yahoo: ReputationCounts
    other: ReputationCounts


class ReputationWindow(BaseModel):
    total: ReputationCounts
    domains: ReputationDomains


class ReputationDay(BaseModel):
    date: date
    sent: int
    hard_bounces: int
    complaints: int


class ReputationOut(BaseModel):
    office: str
    thresholds: ReputationThresholds
    windows: dict[str, ReputationWindow] = Field(
        description='"7" and "30": the last 7 and 30 days (UTC), today included'
    )
    days: list[ReputationDay] = Field(description="each of the last 30 days (UTC), oldest first")
