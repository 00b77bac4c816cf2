"""What the webhooks-out calls read and answer (the request model is the service's, `outbound.endpoints.WebhookIn`)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ..outbound.models import DELIVERY_STATUSES, EVENTS
from ..validation import LARGEST_INTEGER, Strict


class DeliveryQuery(Strict):
    page: int = Field(default=1, ge=1, le=LARGEST_INTEGER)  # past the end: no items


class WebhookCreated(BaseModel):
    id: int
    secret: str = Field(description="`whsec_` + base64: verify each signature with it; shown only in this answer")
    url: str
    events: list[Literal[EVENTS]]


class DeliveryCounts(BaseModel):
    pending: int
    delivered: int
    failed: int


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[Literal[EVENTS]]
    created_at: datetime
    enabled: bool
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="why it was disabled, e.g. `failing since …: HTTP 500`")
    failing_since: datetime | None = Field(description="its first failure since its last success")
    deliveries: DeliveryCounts | None = None


class DeliveryOut(BaseModel):
    id: int
    message_id: str = Field(description="the `webhook-id` header, the same at every try")
    type: Literal[EVENTS]
    payload: dict = Field(description="the JSON POSTed (an erased supporter's email is null)")
    status: Literal[DELIVERY_STATUSES]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None = Field(description="the last try's failure, e.g. `HTTP 500`, `timed out`")
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    page: int
    per_page: int
    more: bool
