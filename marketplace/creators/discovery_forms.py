"""Discovery forms: the search filters (a GET form, no CSRF) and the shortlist forms (shape only)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, ValidationError

from marketplace.creators.taxonomy import AGE_BANDS, CATEGORIES, CONTENT_TYPES, REGIONS
from marketplace.forms import choices
from marketplace.payments.forms import AmountField

SORT_LABELS = {
    "relevance": _l("Best match"),
    "followers": _l("Most followers"),
    "engagement": _l("Highest engagement"),
    "price": _l("Lowest price"),
    "rating": _l("Best rated"),
}
GENDER_LABELS = {  # search.AUDIENCE_MAJORITY_PCT
    "female": _l("Mostly women (60%+)"),
    "male": _l("Mostly men (60%+)"),
}


def _one_of(values, message):
    return AnyOf(["", *values], message=message)


class PercentField(StringField):
    """A percentage typed by a person ("3", "3.5", "3.5%"), exposed as ``basis_points`` (int)."""

    basis_points: int | None = None

    def pre_validate(self, form):
        self.basis_points = None
        text = (self.data or "").strip().rstrip("%").strip()
        if not text:
            return
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise ValidationError(_l("Enter a percentage such as 3 or 3.5.")) from exc
        if not value.is_finite() or value < 0 or value > 100:
            raise ValidationError(_l("Enter a percentage between 0 and 100."))
        self.basis_points = int((value * 100).to_integral_value())


class DiscoverForm(FlaskForm):
    """The discovery filters, bound to the query string (the URL always carries the search)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Keywords"), validators=[Optional(), Length(max=100)],
                    description=_l("Name, handle, bio, category or region — Chinese or English."))
    category = SelectField(_l("Category"), choices=choices([("", _l("Any category")), *CATEGORIES.items()]),
                           validate_choice=False, default="",
                           validators=[_one_of(CATEGORIES, _l("Unknown category. Choose one from the list."))])
    region = SelectField(_l("Region"), choices=choices([("", _l("Anywhere")), *REGIONS.items()]),
                         validate_choice=False, default="",
                         validators=[_one_of(REGIONS, _l("Unknown region. Choose one from the list."))])
    followers_min = IntegerField(_l("Followers from"), validators=[
        Optional(), NumberRange(min=0, message=_l("Enter a number of followers, 0 or more."))],
        render_kw={"inputmode": "numeric", "placeholder": "10000"})
    followers_max = IntegerField(_l("Followers up to"), validators=[
        Optional(), NumberRange(min=0, message=_l("Enter a number of followers, 0 or more."))],
        render_kw={"inputmode": "numeric"})
    content_type = SelectField(_l("Content type"), choices=choices(CONTENT_TYPES.items()), validate_choice=False,
                               default="short_video",
                               validators=[_one_of(CONTENT_TYPES, _l("Unknown content type. Choose one from the list."))],
                               description=_l("Prices shown and filtered are for this content type."))
    price_min = AmountField(_l("Price from (CNY)"), render_kw={"inputmode": "decimal"})
    price_max = AmountField(_l("Price up to (CNY)"), render_kw={"inputmode": "decimal"})
    engagement_min = PercentField(_l("Engagement at least (%)"), render_kw={"inputmode": "decimal", "placeholder": "3"})
    audience_gender = SelectField(_l("Audience"), choices=choices([("", _l("Any audience")), *GENDER_LABELS.items()]),
                                  validate_choice=False, default="",
                                  validators=[_one_of(GENDER_LABELS, _l("Unknown audience choice."))])
    audience_age = SelectField(_l("Audience's main age"), choices=choices([("", _l("Any age")),
                                                                          *((b, b) for b in AGE_BANDS)]),
                               validate_choice=False, default="",
                               validators=[_one_of(AGE_BANDS, _l("Unknown age band. Choose one from the list."))])
    authenticity_min = IntegerField(_l("Authenticity at least"), validators=[
        Optional(), NumberRange(min=0, max=100, message=_l("Enter a score between 0 and 100."))],
        render_kw={"inputmode": "numeric", "placeholder": "70"})
    verified = BooleanField(_l("Real-name verified only"))
    accepting = BooleanField(_l("Accepting orders only"))
    sort = SelectField(_l("Sort by"), choices=choices(SORT_LABELS.items()), validate_choice=False, default="relevance",
                       validators=[_one_of(SORT_LABELS, _l("Unknown sort order. Choose one from the list."))])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.followers_min.data is not None and self.followers_max.data is not None \
                and self.followers_min.data > self.followers_max.data:
            self.followers_max.errors.append(_l("The upper bound is below the lower bound."))
            ok = False
        if ok and self.price_min.minor is not None and self.price_max.minor is not None \
                and self.price_min.minor > self.price_max.minor:
            self.price_max.errors.append(_l("The upper bound is below the lower bound."))
            ok = False
        return ok


class ShortlistForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)],
                       render_kw={"placeholder": _l("e.g. Spring launch, skincare")})


class AddToShortlistForm(FlaskForm):
    """Add a creator to one of the enterprise's shortlists (an id, "new" or "default": see the view)."""

    shortlist = StringField(_l("Shortlist"), validators=[DataRequired()])
    creator_id = IntegerField(validators=[DataRequired()])
    next = HiddenField()


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
