from mobilise.outbound import delivery

from . import in_app_context


@in_app_context
def deliver(delivery_id: int) -> str:
    return delivery.deliver(delivery_id)
