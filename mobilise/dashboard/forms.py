"""The console's forms: validated fields, errors shown next to them."""

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..auth.roles import OFFICE_ROLES
from ..validation import language_code


def not_past(form, field):
    if field.data and field.data < date.today():
        raise ValidationError("This date has passed.")


def in_our_years(form, field):
    """The dates the service reads and writes everywhere (the API says the same): a deadline in year 9999
    is a typo, and a page that counts the days to it would count millions."""
    if field.data and not 1900 <= field.data.year <= 2999:
        raise ValidationError("Choose a date between the years 1900 and 2999.")


# Generous for the news of a case, and far from what a form post could be made to carry.
BODY_LIMIT = 20_000
TAG_WIDTH = 100  # supporters' tags are no longer, so a longer one could match nobody


class ConfirmForm(FlaskForm):
    """Every action is sent twice: first to see what it will do, then with confirm=yes to do it."""

    confirm = HiddenField()

    def carried(self) -> dict[str, str]:
        """The values to carry, hidden, from the confirmation page to the final yes."""
        values = {}
        for field in self:
            if field.name in ("csrf_token", "confirm"):
                continue
            data = field.data
            values[field.name] = data.isoformat() if hasattr(data, "isoformat") else ("" if data is None else str(data))
        return values


class LaunchForm(ConfirmForm):
    office = SelectField("Office", validators=[DataRequired()])
    deadline = DateField("Our own deadline (optional)", validators=[Optional(), in_our_years, not_past])
    tags = StringField(
        "Only supporters with any of these tags (optional, comma-separated)", validators=[Length(max=2000)]
    )
    languages = StringField(
        "Only supporters reading these languages (optional, comma-separated codes, e.g. en, es)",
        validators=[Length(max=500)],
    )

    def validate_tags(self, field):
        if any(len(tag) > TAG_WIDTH for tag in self.tag_list()):
            raise ValidationError(f"A tag has at most {TAG_WIDTH} characters.")

    def tag_list(self) -> list[str]:
        return sorted({t.strip() for t in (self.tags.data or "").split(",") if t.strip()})

    def validate_languages(self, field):
        for code in self.language_list():
            try:
                language_code(code)
            except ValueError:
                raise ValidationError("Language codes are two or three letters, such as en, es, fr.") from None

    def language_list(self) -> list[str]:
        return sorted({code.strip().lower() for code in (self.languages.data or "").split(",") if code.strip()})


class UpdateForm(ConfirmForm):
    body = TextAreaField("The news, as supporters will read it", validators=[DataRequired(), Length(max=BODY_LIMIT)])


class ExtendForm(ConfirmForm):
    deadline = DateField("New deadline", validators=[DataRequired(), in_our_years, not_past])
    body = TextAreaField("A few words for supporters (optional)", validators=[Length(max=BODY_LIMIT)])


class CloseForm(ConfirmForm):
    outcome = SelectField("Outcome")
    body = TextAreaField("What changed (sent to those who acted, with good news)", validators=[Length(max=BODY_LIMIT)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Set here, as LaunchForm's offices are: WTForms 3.3 warns of (value, label) pairs given to the
        # field's declaration, a warning that the tests (warnings as errors) turned into a 500 on every close.
        self.outcome.choices = [("good_news", "Good news"), ("no_further_action", "No further action")]


class TranslationForm(FlaskForm):
    """One language's texts of a case, named as CaseTranslation's columns. No rule of its own: edit_case
    checks every field (lengths, what a column holds) and its errors are put back on the fields here."""

    title = StringField("Title")
    summary = TextAreaField("Summary")
    pronoun = StringField("Pronoun of the person at risk")
    target_title = StringField("The target's title")
    target_salutation = StringField("Salutation to the target")
    model_letter = TextAreaField("Model letter")
    additional_information = TextAreaField("Additional information")

    def texts(self) -> dict:
        """The translation as edit_case takes it: every field sent, so a blank one clears."""
        values = {
            name: self[name].data or ""
            for name in ("title", "summary", "pronoun", "model_letter", "additional_information")
        }
        return values | {
            "target": {"title": self.target_title.data or "", "salutation": self.target_salutation.data or ""}
        }

    def show_errors(self, details, language: str) -> list[str]:
        """Put each error of edit_case on its field ("translations.fr.target.title" is target_title);
        return those that name no field of this form."""
        prefix = f"translations.{language}."
        unplaced = []
        for detail in details or []:
            if not isinstance(detail, dict):
                continue
            name = (detail.get("field") or "").removeprefix(prefix).replace("target.", "target_")
            if name in self and name != "csrf_token":
                self[name].errors = [*self[name].errors, detail["error"]]
            else:
                unplaced.append(detail["error"])
        return unplaced


# Each office role as the staff page offers it (a role added to roles.OFFICE_ROLES needs its words here).
ROLE_WORDS = {
    "manager": "Manager: everything in the office",
    "campaigner": "Campaigner: launch, supporters, imports",
    "viewer": "Viewer: counts and schedules only",
}
ROLE_CHOICES = [(role, ROLE_WORDS[role]) for role in OFFICE_ROLES]


class ColleagueForm(FlaskForm):
    """A colleague added on the staff page; the view drops `office` for a manager (their own office is the one)."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=320), Email(check_deliverability=False)])
    role = SelectField("Role", default="viewer")
    office = SelectField("Office")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = ROLE_CHOICES  # set here, as CloseForm's: WTForms warns of pairs declared


class RoleForm(FlaskForm):
    """One per account on the page, so made with the account's prefix (its fields' ids stay unique)."""

    role = SelectField("Role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = ROLE_CHOICES

    @classmethod
    def of(cls, account_id: int, **kwargs) -> "RoleForm":
        return cls(prefix=f"account{account_id}", **kwargs)


class RemoveForm(FlaskForm):
    """Only its CSRF token."""
