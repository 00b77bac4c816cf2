from mobilise.sending import confirmation
from mobilise.supporters import imports

from . import in_app_context


@in_app_context
def run_import(import_id: int) -> dict:
    return imports.run_import(import_id)


@in_app_context
def send_confirmation(request_id: int) -> str:
    return confirmation.send_confirmation(request_id)
