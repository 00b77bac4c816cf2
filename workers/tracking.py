from mobilise.tracking import events

from . import in_app_context


@in_app_context
def flush_events() -> int:
    return events.flush_events()
