"""Enterprise forms (shape only; USCC check digit and the rest are checked in enterprises.services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from marketplace.forms import choices

ROLE_LABELS = {
    "owner": _l("Owner"),
    "manager": _l("Manager"),
    "finance": _l("Finance"),
    "viewer": _l("Viewer"),
}
ROLE_DESCRIPTIONS = {
    "owner": _l("Everything, including members and roles."),
    "manager": _l("Post jobs, send offers, review drafts, confirm, buy boosts, message creators."),
    "finance": _l("Top up, statements, invoices and exports; no orders."),
    "viewer": _l("Read only."),
}


class EnterpriseForm(FlaskForm):
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)],
                             description=_l("Exactly as on the business licence."))
    display_name = StringField(_l("Brand name shown to creators"), validators=[Optional(), Length(max=80)])
    uscc = StringField(_l("Unified social credit code (USCC)"),
                       validators=[DataRequired(), Length(min=18, max=18, message=_l("The USCC has 18 characters."))],
                       description=_l("18 characters, on the business licence."))
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=80)])
    contact_phone = StringField(_l("Contact phone"), validators=[
        DataRequired(), Length(max=32),
        Regexp(r"^\+?[0-9][0-9 \-]{5,30}$", message=_l("Enter a phone number with digits only."))])
    contact_email = EmailField(_l("Contact email"), validators=[DataRequired(), Email(check_deliverability=False)])
    invoice_title = StringField(_l("Invoice title"), validators=[Optional(), Length(max=200)],
                                description=_l("Leave empty to use the legal name."))
    tax_number = StringField(_l("Taxpayer number"), validators=[Optional(), Length(max=20)],
                             description=_l("Leave empty to use the USCC."))
    licence = FileField(_l("Business licence"), description=_l("PNG, JPEG or PDF, at most 5 MB."))


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()), default="manager",
                       validators=[DataRequired()])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()), validators=[DataRequired()])


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the enterprise"), validators=[DataRequired(), Length(min=5, max=1000)],
                           description=_l("Say exactly what to correct; the owners receive this text."))
