"""Forms for campaigns, jobs, applications and application messages (shape only: budgets, dates, criteria and
quotes are checked by ``orders.recruiting``; its errors are put beside the field they name).

Amounts are typed in yuan and read exactly with ``Money.parse`` (``AmountField.minor`` is in fen). The job's
application deadline is typed in the user's time zone (``datetime-local``) and stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional

from marketplace.creators.forms import MultiCheckboxField
from marketplace.creators.taxonomy import CATEGORIES, CONTENT_TYPES, REGIONS
from marketplace.forms import choices
from marketplace.i18n import select_timezone
from marketplace.payments.forms import AmountField
from marketplace.query_forms import (
    AmountFilter,
    CheckFilter,
    ChoiceFilter,
    IntegerFilter,
    QueryForm,
    TextFilter,
)

_DATE = {"placeholder": "YYYY-MM-DD"}


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       render_kw={"placeholder": _l("e.g. Autumn skincare launch")})
    goal = TextAreaField(_l("Goal"), validators=[Length(max=2000)],
                         description=_l("What the campaign should achieve, for your team."))
    budget = AmountField(_l("Budget (CNY)"), render_kw={"inputmode": "decimal", "placeholder": "50000"},
                         description=_l("What you plan to spend on this campaign's orders, fees included."))
    starts_on = DateField(_l("Starts"), validators=[Optional()], render_kw=_DATE)
    ends_on = DateField(_l("Ends"), validators=[Optional()], render_kw=_DATE)


def to_utc(local: datetime | None, timezone: str | None = None) -> datetime | None:
    """A wall-clock time typed in ``timezone`` (default: the user's) as an aware UTC datetime."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(timezone or select_timezone())).astimezone(UTC)


def to_local(moment: datetime | None, timezone: str | None = None) -> datetime | None:
    """A stored UTC datetime as the naive wall-clock time in ``timezone`` (for a ``datetime-local`` input)."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(timezone or select_timezone())).replace(tzinfo=None, second=0, microsecond=0)


class JobForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)],
                        render_kw={"placeholder": _l("e.g. 60-second review of our new serum")})
    brief = TextAreaField(_l("Brief"), validators=[DataRequired(), Length(max=5000)],
                          description=_l("What to make, the key messages, what to avoid. Creators decide from this."))
    content_type = SelectField(_l("Content type"), choices=choices(CONTENT_TYPES.items()), validate_choice=False,
                               default="short_video")
    deliverables = TextAreaField(_l("Deliverables"), validators=[Length(max=2000)],
                                 description=_l("Exactly what each creator hands over (length, format, tags, links)."))
    budget = AmountField(_l("Budget per creator (CNY)"), validators=[InputRequired()],
                         render_kw={"inputmode": "decimal", "placeholder": "1000"},
                         description=_l("Creators quote against it; you pay the accepted quote plus the service fee."))
    slots = IntegerField(_l("Creators wanted"), validators=[InputRequired()], default=1,
                         render_kw={"inputmode": "numeric", "min": 1, "max": 500},
                         description=_l("The job closes when this many applications are accepted."))
    application_deadline = DateTimeLocalField(_l("Applications close"), validators=[InputRequired()],
                                              format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
    publish_from = DateField(_l("Publish from"), validators=[InputRequired()], render_kw=_DATE)
    publish_until = DateField(_l("Publish by"), validators=[InputRequired()], render_kw=_DATE)
    criteria_categories = MultiCheckboxField(_l("Categories"), choices=choices(CATEGORIES.items()),
                                             description=_l("Creators in any of these categories. None: any category."))
    criteria_regions = MultiCheckboxField(_l("Regions"), choices=choices(REGIONS.items()),
                                          description=_l("Creators in any of these regions. None: anywhere."))
    criteria_min_followers = IntegerField(_l("Followers from"), validators=[Optional()],
                                          render_kw={"inputmode": "numeric", "placeholder": "10000"})
    criteria_max_followers = IntegerField(_l("Followers up to"), validators=[Optional()],
                                          render_kw={"inputmode": "numeric"})
    usage_rights_days = IntegerField(_l("Usage rights (days)"), validators=[InputRequired()], default=30,
                                     render_kw={"inputmode": "numeric", "min": 0},
                                     description=_l("How long you may reuse or boost the content."))
    live_days = IntegerField(_l("Must stay live (days)"), validators=[InputRequired()], default=30,
                             render_kw={"inputmode": "numeric", "min": 0},
                             description=_l("Part of the payment is held until the work has stayed up this long."))
    revision_rounds = IntegerField(_l("Revision rounds"), validators=[InputRequired()], default=1,
                                   render_kw={"inputmode": "numeric", "min": 0, "max": 10})
    campaign_id = SelectField(_l("Campaign"), validate_choice=False, default="",
                              description=_l("Group the job and its orders under a campaign (optional)."))

    def set_campaigns(self, campaigns) -> None:
        self.campaign_id.choices = choices([("", _l("No campaign")), *((str(c.id), c.name) for c in campaigns)])

    def campaign(self) -> int | None:
        value = (self.campaign_id.data or "").strip()
        return int(value) if value.isdigit() else None

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        value = (self.campaign_id.data or "").strip()
        if value and not value.isdigit():
            self.campaign_id.errors = [*self.campaign_id.errors, _l("Choose one of your campaigns.")]
            ok = False
        return ok


class ApplyForm(FlaskForm):
    quote = AmountField(_l("Your price (CNY)"), validators=[InputRequired()],
                        render_kw={"inputmode": "decimal"},
                        description=_l("What you charge for this job. Canal's commission is taken from it."))
    pitch = TextAreaField(_l("Pitch"), validators=[DataRequired(), Length(max=3000)],
                          description=_l("Why you, and your idea for this brief. Link a similar work if you have one."))


class RejectApplicationForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the creator"), validators=[DataRequired(), Length(max=1000)],
                           description=_l("The creator sees this."))


class ShortlistApplicationForm(FlaskForm):
    shortlisted = HiddenField(validators=[AnyOf(["0", "1"])])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[Length(max=4000)])
    file = FileField(_l("Attachment"), description=_l("Optional: an image (PNG, JPEG) or a PDF."))


BOARD_SORT_LABELS = {
    "deadline": _l("Closing soonest"),
    "budget": _l("Highest budget"),
    "newest": _l("Newest"),
}


class BoardForm(QueryForm):
    """The job board's filters, read from the query string."""

    q = TextFilter(_l("Keywords"), max_length=100)
    content_type = ChoiceFilter(_l("Content type"), CONTENT_TYPES, blank=_l("Any type"),
                                message=_l("Unknown content type. Choose one from the list."))
    category = ChoiceFilter(_l("Category"), CATEGORIES, blank=_l("Any category"),
                            message=_l("Unknown category. Choose one from the list."))
    budget_min = AmountFilter(_l("Budget at least (CNY)"))
    qualify = CheckFilter(_l("Only jobs I qualify for"))
    sort = ChoiceFilter(_l("Sort by"), BOARD_SORT_LABELS, default="deadline",
                        message=_l("Unknown sort order. Choose one from the list."))
    page = IntegerFilter(_l("Page"), minimum=1, message=_l("Enter a page number, 1 or more."))
