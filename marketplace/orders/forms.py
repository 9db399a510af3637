"""Order forms: the direct offer, and one small form per action on the order page (shape only: prices, terms,
states and who may act are checked in ``orders.services``).

Field names are unique across the order page (several forms share it) and match the ``field`` of the
``DomainError`` a service raises about them (``price``, ``files``, ``link_url``, ``feedback``, ``work_url``,
``reason``, ``description``, ``note``, ``rating``, ``body`` …), so the error lands beside its input.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from marketplace.creators.taxonomy import CONTENT_TYPES
from marketplace.forms import choices
from marketplace.orders.states import DISPUTE_REASONS
from marketplace.payments.forms import AmountField


def optional_id(value) -> int | None:
    """A select's value as an id; "" (no choice) as None."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # not one of the choices: refused by the field


class OfferForm(FlaskForm):
    content_type = SelectField(_l("Content type"), choices=choices(CONTENT_TYPES.items()),
                               validators=[DataRequired()])
    price = AmountField(_l("Price (CNY)"), validators=[DataRequired()], render_kw={"inputmode": "decimal"},
                        description=_l("What the creator is paid for this piece, before the platform's commission."))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)],
                        description=_l("A short name both sides will recognise, e.g. “Autumn serum launch video”."))
    brief = TextAreaField(_l("Brief"), validators=[Length(max=5000)],
                          description=_l("What the content is about, key messages, what to avoid."))
    deliverables = TextAreaField(_l("Deliverables"), validators=[Length(max=2000)],
                                 description=_l("Exactly what you expect: length, format, hashtags, links."))
    publish_from = DateField(_l("Publish from"), validators=[Optional()])
    publish_until = DateField(_l("Publish by"), validators=[Optional()])
    revision_rounds = IntegerField(_l("Revision rounds included"), validators=[InputRequired(), NumberRange(0, 10)])
    live_days = IntegerField(_l("Must stay live (days)"), validators=[InputRequired(), NumberRange(0, 365)],
                             description=_l("Part of the creator's pay is held until the work has stayed public "
                                            "this long. 0 for no guarantee."))
    usage_rights_days = IntegerField(_l("Usage rights (days)"), validators=[InputRequired(), NumberRange(0, 3650)],
                                     description=_l("How long you may reuse or boost the content."))
    campaign_id = SelectField(_l("Campaign"), coerce=optional_id, choices=[], validate_choice=True)


class DeclineForm(FlaskForm):
    decline_reason = TextAreaField(_l("Reason (optional)"), validators=[Length(max=1000)],
                                   description=_l("The brand sees it. A reason helps them make a better offer."))


class DraftForm(FlaskForm):
    files = MultipleFileField(_l("Files"),
                              description=_l("Images (PNG, JPEG) or videos (MP4, MOV, WebM). You may attach several."))
    link_url = StringField(_l("Or a link to the draft"), validators=[Optional(), Length(max=300)],
                           description=_l("A cloud drive or preview link, starting with https://"))
    draft_note = TextAreaField(_l("Note to the brand"), validators=[Length(max=2000)])


class ApproveForm(FlaskForm):
    approve_note = TextAreaField(_l("Comment (optional)"), validators=[Length(max=2000)])


class RevisionForm(FlaskForm):
    feedback = TextAreaField(_l("What should change"), validators=[DataRequired(), Length(max=2000)],
                             description=_l("Be specific: the creator works from this."))


class PublishForm(FlaskForm):
    work_url = StringField(_l("Link to the published work"), validators=[Length(max=300)],
                           description=_l("Paste its link, or pick one of your recent works below. We check it "
                                          "belongs to your linked account and is public."))
    work_pick = StringField(_l("Your recent public works"), validators=[Optional(), Length(max=300)])

    @property
    def chosen_url(self) -> str:
        return (self.work_url.data or "").strip() or (self.work_pick.data or "").strip()


class CancelForm(FlaskForm):
    cancel_reason = TextAreaField(_l("Reason"), validators=[Length(max=1000)])


class DisputeForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=choices([("", _l("Choose a reason…")), *DISPUTE_REASONS.items()]),
                         validators=[DataRequired()])
    description = TextAreaField(_l("What went wrong"), validators=[DataRequired(), Length(max=4000)],
                                description=_l("A reviewer reads this, the messages and the drafts, then decides."))
    evidence = MultipleFileField(_l("Evidence (optional)"),
                                 description=_l("Screenshots (PNG, JPEG), PDF documents or short videos."))


class EvidenceForm(FlaskForm):
    more_evidence = MultipleFileField(_l("Add evidence"),
                                      description=_l("Screenshots (PNG, JPEG), PDF documents or short videos."))


class RemovedForm(FlaskForm):
    note = TextAreaField(_l("What you saw"), validators=[DataRequired(), Length(max=2000)],
                         description=_l("For example: the video shows “private”, or the link says it was deleted."))
    removed_on = DateField(_l("Noticed on"), validators=[Optional()],
                           description=_l("Leave empty for today."))


RATING_CHOICES = [(5, _l("5 — excellent")), (4, _l("4 — good")), (3, _l("3 — fine")), (2, _l("2 — poor")),
                  (1, _l("1 — bad"))]


class ReviewForm(FlaskForm):
    rating = RadioField(_l("Rating"), choices=choices(RATING_CHOICES), coerce=int, validators=[InputRequired()])
    review_comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)],
                                   description=_l("Shown on the profile once both sides have reviewed, or when the "
                                                  "review window closes."))


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[Length(max=4000)])
    attachment = FileField(_l("Attachment"), description=_l("Optional: an image, a PDF or a short video."))
