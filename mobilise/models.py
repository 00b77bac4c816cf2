"""Every table in one import, for Alembic and for tests."""

from .audit.models import AuditEntry  # noqa: F401
from .auth.models import ApiToken, Staff  # noqa: F401
from .cases.models import Action, Case, CaseTranslation  # noqa: F401
from .counts.models import ActionDay, DriveCounts, DriveSupporter, MailingCounts  # noqa: F401
from .deliverability.models import FeedbackEvent, MailingSends  # noqa: F401
from .offices.models import Office  # noqa: F401
from .outbound.models import WebhookDelivery, WebhookEndpoint  # noqa: F401
from .sending.models import Delivery, MailingLink, SendClaim  # noqa: F401
from .sequences.models import Drive, Mailing  # noqa: F401
from .supporters.models import Bounce, ConsentChange, Import, Supporter, SupporterTag, VisitorAction  # noqa: F401
from .supporters.preference_models import PreferenceChoice, Preferences  # noqa: F401
from .tracking.models import Event  # noqa: F401
