from mobilise.sequences import dispatch

from . import in_app_context


@in_app_context
def tick() -> dict:
    return dispatch.tick()
