from mobilise.sending import service

from . import in_app_context


@in_app_context
def take_audience(mailing_id: int) -> int:
    with service.failures_counted(mailing_id):
        return service.take_audience(mailing_id)


@in_app_context
def send_batch(mailing_id: int, first_id: int, last_id: int) -> dict:
    with service.failures_counted(mailing_id):
        return service.send_batch(mailing_id, first_id, last_id)
