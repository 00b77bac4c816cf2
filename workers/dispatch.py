from mobilise.sending import tick as schedule

from . import in_app_context


@in_app_context
def tick() -> dict:
    return schedule.tick()
