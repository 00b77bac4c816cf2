from mobilise.supporters import imports, signup

from . import in_app_context


@in_app_context
def run_import(import_id: int) -> dict:
    return imports.run_import(import_id)


@in_app_context
def send_confirmation(request_id: int) -> str:
    return signup.send_confirmation(request_id)
