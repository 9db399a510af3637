"""Site-wide forms and form helpers (domain forms live in each domain's ``forms.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField
from wtforms.validators import DataRequired

from marketplace.errors import DomainError
from marketplace.i18n import LANGUAGES


def choices(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """Select/radio options from (value, label) pairs; labels may be lazy translations."""
    return [SelectChoice(value, label) for value, label in pairs]


class ContextForm(FlaskForm):
    context = HiddenField(validators=[DataRequired()])


class LanguageForm(FlaskForm):
    locale = SelectField(choices=choices(LANGUAGES.items()), validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a local path (no open redirects), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def apply_domain_error(form: FlaskForm, error: DomainError) -> bool:
    """Put a domain error beside its field; return False when it belongs to no field of the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
    return True
