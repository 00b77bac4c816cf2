"""The preheader: the line an inbox shows after the subject, written as hidden text at the top of the HTML.

It says the ask in a few words: how many people are at risk, whom to write to, by when. It is the same
for every recipient of a mailing (rendered once per language, like the rest), so it never holds the
supporter's name or a link; and, like a high-risk case's subject, it never names the people at risk
(only how many they are): inbox previews show on lock screens and in notifications.
"""

from flask_babel import format_date, gettext, ngettext

from ..languages import elided


def preheader_for(stage: str, context: dict) -> str:
    """The preheader of `stage`'s email in the current locale; "" for a stage that has none of its own."""
    if stage == "confirm":
        name = context["office"].name
        return elided(
            gettext("One click confirms your subscription to Urgent Action emails from %(office)s.", office=name), name
        )
    if stage == "visitor_action":  # a visitor of the public case page, asked to confirm their action
        name = context["office"].name
        return elided(gettext("One click confirms your action and makes it count for %(office)s.", office=name), name)
    case = context.get("case")
    if case is None or stage not in _CASE_STAGES:
        return ""
    return _CASE_STAGES[stage](case, context, target=case.target_name, date=format_date(context["deadline"], "long"))


def _launch(case, context, **names) -> str:
    if people := len(case.people or []):
        return ngettext(
            "%(num)d person at risk: write to %(target)s by %(date)s.",
            "%(num)d people at risk: write to %(target)s by %(date)s.",
            people,
            **names,
        )
    return gettext("Write to %(target)s by %(date)s: the model letter is ready on the action page.", **names)


def _update(case, context, **names) -> str:
    return gettext("News on this case: your letter to %(target)s can still help until %(date)s.", **names)


def _extension(case, context, **names) -> str:
    return gettext("More time to act: you can write to %(target)s until %(date)s.", **names)


def _reminder(case, context, **names) -> str:
    if days := context["days_left"]:
        return ngettext(
            "%(num)d day left to write to %(target)s: the model letter is ready.",
            "%(num)d days left to write to %(target)s: the model letter is ready.",
            days,
            **names,
        )
    return gettext("Last day to write to %(target)s: the model letter is ready.", **names)


def _outcome(case, context, **names) -> str:
    if case.outcome == "good_news":
        return gettext("Good news on a case you acted on: thank you for writing.")
    return gettext("This case is closed: thank you for writing.")


_CASE_STAGES = {
    "launch": _launch,
    "update": _update,
    "extension": _extension,
    "reminder": _reminder,
    "outcome": _outcome,
}
