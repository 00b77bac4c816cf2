"""The console's forms: validated fields, errors shown next to them."""
from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from ..validation import language_code


def not_past(form, field):
    if field.data and field.data < date.today():
        raise ValidationError("This date has passed.")


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
    deadline = DateField("Our own deadline (optional)", validators=[Optional(), not_past])
    tags = StringField("Only supporters with any of these tags (optional, comma-separated)")
    languages = StringField("Only supporters reading these languages (optional, comma-separated codes, e.g. en, es)")

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
    body = TextAreaField("The news, as supporters will read it", validators=[DataRequired()])


class ExtendForm(ConfirmForm):
    deadline = DateField("New deadline", validators=[DataRequired(), not_past])
    body = TextAreaField("A few words for supporters (optional)")


class CloseForm(ConfirmForm):
    outcome = SelectField("Outcome", choices=[("good_news", "Good news"), ("no_further_action", "No further action")])
    body = TextAreaField("What changed (sent to those who acted, with good news)")
