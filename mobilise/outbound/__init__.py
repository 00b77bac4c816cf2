"""Webhooks out: an office's receivers (a CRM, a data warehouse) told of what happens to its supporters.

`endpoints.py` registers the receivers under the SSRF rules of `safety.py`; `outbox.py` writes one delivery per
receiver in the transaction of the act it reports (`emit`), and enqueues them once that commits; `delivery.py`
POSTs each, signed as the Standard Webhooks specification says, and retries with backoff until a 2xx. (The name
`webhooks` is the providers' inbound webhooks', in `deliverability`.)
"""

from . import outbox  # noqa: F401  its session hooks enqueue the deliveries a commit made
