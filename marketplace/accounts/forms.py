"""Account forms (shape only; the rules live in accounts.services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from marketplace.forms import choices
from marketplace.i18n import COMMON_TIMEZONES, LANGUAGES, valid_timezone


class SignupForm(FlaskForm):
    kind = RadioField(
        _l("I am"),
        choices=choices([("brand", _l("A brand — I want to hire creators")),
                         ("creator", _l("A creator — I want to get orders"))]),
        default="brand",
        validators=[DataRequired()],
    )
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=80)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=256)],
        description=_l("At least 10 characters. A few unusual words work well."),
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)],
                             description=_l("At least 10 characters. A few unusual words work well."))
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords don't match."))])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=256)],
                                 description=_l("At least 10 characters. A few unusual words work well."))
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords don't match."))])


def _timezone_choices(extra: str | None = None):
    names = ([extra] if extra and extra not in COMMON_TIMEZONES else []) + list(COMMON_TIMEZONES)
    return choices((name, name.replace("_", " ")) for name in names)


class SettingsForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=80)])
    locale = SelectField(_l("Language"), choices=choices(LANGUAGES.items()), validators=[DataRequired()])
    timezone = SelectField(_l("Time zone"), choices=_timezone_choices(), validators=[DataRequired()],
                           description=_l("Dates and times are shown in this zone."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.timezone.data or (kwargs.get("obj").timezone if kwargs.get("obj") else None)
        if current and valid_timezone(current):
            self.timezone.choices = _timezone_choices(current)

    def validate_timezone(self, field):
        if not valid_timezone(field.data):
            raise ValidationError(_l("Choose a time zone from the list."))
