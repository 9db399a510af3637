"""Reviewers' forms: a job decision, a dispute decision, a message on a disputed order, a removal report decision.

Shape only (choices, lengths, an amount that parses); the services decide the rules (a reason to reject, a split
inside the price, an explanation for both sides) and their errors are put beside these fields by the views.
Forms shown once per row of a queue take a ``prefix`` (``job<id>``, ``report<id>``) so their fields keep
unique ids on the page.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from marketplace.forms import choices
from marketplace.payments.forms import AmountField

JOB_DECISIONS = ("approve", "reject")
REPORT_DECISIONS = ("uphold", "dismiss")


class JobDecisionForm(FlaskForm):
    """Approve a job, or reject it with a reason for the brand (the service requires the reason to reject)."""

    decision = HiddenField(validators=[DataRequired(), AnyOf(JOB_DECISIONS, message=_l("Choose a decision."))])
    reason = TextAreaField(_l("Reason for the brand"), validators=[Optional(), Length(max=1000)],
                           description=_l("Required to reject: say what to change. The brand receives this text."))


class DisputeDecisionForm(FlaskForm):
    """Refund, release or split; a split names the creator's part of the price (yuan); an explanation for both."""

    decision = RadioField(_l("Outcome"), choices=choices([
        ("refund", _l("Refund the brand in full")),
        ("release", _l("Pay the creator in full")),
        ("split", _l("Split the price")),
    ]), validators=[DataRequired(message=_l("Choose a decision."))])
    to_creator = AmountField(_l("Creator's part of the price (CNY)"), validators=[Optional()],
                             description=_l("For a split: more than zero and less than the price. The platform's "
                                            "fees follow each part."),
                             render_kw={"inputmode": "decimal", "autocomplete": "off"})
    note = TextAreaField(_l("Explanation for both sides"),
                         validators=[DataRequired(message=_l("Explain the decision to both sides.")),
                                     Length(max=4000)],
                         description=_l("Both the brand and the creator receive this text with the decision."))


class StaffMessageForm(FlaskForm):
    body = TextAreaField(_l("Message to both sides"),
                         validators=[DataRequired(message=_l("Write a message.")), Length(max=4000)])


class RemovalDecisionForm(FlaskForm):
    """Uphold (the retention is refunded pro rata) or dismiss a brand's report that the work was removed."""

    decision = HiddenField(validators=[DataRequired(),
                                       AnyOf(REPORT_DECISIONS, message=_l("Choose a decision."))])
    note = TextAreaField(_l("Note for both sides"),
                         validators=[DataRequired(message=_l("Explain the decision.")), Length(max=2000)])
