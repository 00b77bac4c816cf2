from mobilise.sending import visitor_confirmation

from . import in_app_context


@in_app_context
def send_confirmation(request_id: int) -> str:
    return visitor_confirmation.send_visitor_confirmation(request_id)
