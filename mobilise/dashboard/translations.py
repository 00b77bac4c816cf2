"""A case's languages as staff see them: what each translation still lacks, what its readers get instead,
and who a launch reaches in which language. The rules live in the case (languages, missing) and in
reading_language; this only puts them into words for the console."""

from ..cases.models import TRANSLATABLE, Case
from ..languages import name_of, reading_language
from ..offices.models import Office
from ..sequences.service import reading_audience

# Each translatable text, as staff call it.
FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "pronoun": "Pronoun of the person at risk",
    "target_title": "The target's title",
    "target_salutation": "Salutation to the target",
    "model_letter": "Model letter",
    "additional_information": "Additional information",
}
assert set(FIELD_LABELS) == set(TRANSLATABLE), "every translatable text needs its label here"

# The stage whose templates decide whether an email can be written in a language (every stage has the same set).
EMAIL_STAGE = "launch"


def read_instead(case: Case, wanted: list[str]) -> str:
    """The language a reader wanting `wanted` (their own first, then their office's) gets the launch email in."""
    return reading_language(wanted, case.languages(), case.language, stage=EMAIL_STAGE)


def language_status(case: Case, code: str) -> dict:
    """One language of the case in words: the original, complete and used, or what it lacks and what readers get."""
    missing = case.missing(code)
    instead = read_instead(case, [code])
    status = {
        "code": code,
        "name": name_of(code),
        "original": code == case.language,
        "exists": code == case.language or case.translation(code) is not None,
        "missing": missing,
        "missing_labels": [FIELD_LABELS[f] for f in missing],
        "complete": not missing,
        "instead": name_of(instead),
    }
    if status["original"]:
        status["words"] = "The original text."
    elif missing:
        fields = f"{len(missing)} field{'s' if len(missing) != 1 else ''} missing"
        status["words"] = f"Incomplete: {fields}, readers get {name_of(instead)} instead."
    elif instead != code:
        # Whole, but the service's own wording (the emails' frame, the page) has no such language yet.
        status["words"] = (
            f"Complete, but our emails and pages are not written in {name_of(code)} yet: "
            f"readers get {name_of(instead)} instead."
        )
    else:
        status["words"] = "Complete: used in emails and pages."
    return status


def case_languages(case: Case) -> list[dict]:
    """The original first, then each translation by its language's name."""
    translations = sorted((language_status(case, t.language) for t in case.translations), key=lambda s: s["name"])
    return [language_status(case, case.language), *translations]


def languages_to_add(case: Case, offices: list[Office]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The languages a case could be translated into: the offices' first (what a launch will need), then every other."""
    taken = {case.language} | {t.language for t in case.translations}
    offices_languages = {o.language for o in offices} - taken
    others = {code for code in _all_language_codes() if code not in taken | offices_languages}
    return _by_name(offices_languages), _by_name(others)


def _by_name(codes) -> list[tuple[str, str]]:
    return sorted(((code, name_of(code)) for code in codes), key=lambda pair: pair[1])


def _all_language_codes() -> list[str]:
    from babel import Locale

    return [code for code in Locale("en").languages if len(code) == 2 and code.isalpha()]


def _why(case: Case, own: str) -> str:
    if own not in case.languages():
        return (
            f"the {name_of(own)} translation is incomplete"
            if case.translation(own)
            else f"no {name_of(own)} translation"
        )
    # The case reads whole in it: what is missing is the service's own wording of the email.
    return f"our emails are not written in {name_of(own)} yet"


def launch_audience(case: Case, office: Office, *, tags=(), languages=()) -> dict:
    """reading_audience in words: recipients by the language they will read, those who fall back (by their
    own language, with what they get and why), and a warning when the office's own language is missing."""
    audience = reading_audience(case, office, tags=tags, languages=languages)
    reading = [{"code": code, "name": name_of(code), "count": n} for code, n in audience["languages"].items()]
    fallback = [
        {
            "code": own,
            "name": name_of(own),
            "count": n,
            "reads": name_of(read_instead(case, [own, office.language])),
            "why": _why(case, own),
            "translatable": own not in case.languages(),
        }
        for own, n in audience["fallback"].items()
    ]
    warning = None
    if office.language not in case.languages():
        status = language_status(case, office.language)
        warning = {
            **status,
            "count": audience["fallback"].get(office.language, 0),
            "reads": name_of(read_instead(case, [office.language])),
        }
    left_out = [
        {"reason": reason, "why": LEFT_OUT_BECAUSE[reason], "count": n} for reason, n in audience["left_out"].items()
    ]
    return {
        "total": audience["total"],
        "reading": reading,
        "fallback": fallback,
        "warning": warning,
        "left_out": left_out,
        "raw": audience,
    }


# Why a supporter's preferences leave them out of a launch, in the console's words.
LEFT_OUT_BECAUSE = {
    "paused": "paused their emails until a later date",
    "regions": "chose only other regions",
    "themes": "chose only other themes",
    "frequency": "chose the launch and the last reminder only",
}
