"""Discovery forms: the search filters (a GET ``QueryForm``) and the shortlist forms (shape only)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from marketplace.creators.taxonomy import AGE_BANDS, CATEGORIES, CONTENT_TYPES, REGIONS
from marketplace.query_forms import (
    AmountFilter,
    CheckFilter,
    ChoiceFilter,
    IntegerFilter,
    PercentFilter,
    QueryForm,
    TextFilter,
)

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


class DiscoverForm(QueryForm):
    """The discovery filters, read from the query string (the URL always carries the search)."""

    q = TextFilter(_l("Keywords"), max_length=100,
                   description=_l("Name, handle, bio, category or region — Chinese or English."))
    category = ChoiceFilter(_l("Category"), CATEGORIES, blank=_l("Any category"),
                            message=_l("Unknown category. Choose one from the list."))
    region = ChoiceFilter(_l("Region"), REGIONS, blank=_l("Anywhere"),
                          message=_l("Unknown region. Choose one from the list."))
    followers_min = IntegerFilter(_l("Followers from"), minimum=0,
                                  message=_l("Enter a number of followers, 0 or more."))
    followers_max = IntegerFilter(_l("Followers up to"), minimum=0,
                                  message=_l("Enter a number of followers, 0 or more."))
    content_type = ChoiceFilter(_l("Content type"), CONTENT_TYPES, default="short_video",
                                message=_l("Unknown content type. Choose one from the list."),
                                description=_l("Prices shown and filtered are for this content type."))
    price_min = AmountFilter(_l("Price from (CNY)"))
    price_max = AmountFilter(_l("Price up to (CNY)"))
    engagement_min = PercentFilter(_l("Engagement at least (%)"))
    audience_gender = ChoiceFilter(_l("Audience"), GENDER_LABELS, blank=_l("Any audience"),
                                   message=_l("Unknown audience choice."))
    audience_age = ChoiceFilter(_l("Audience's main age"), [(band, band) for band in AGE_BANDS], blank=_l("Any age"),
                                message=_l("Unknown age band. Choose one from the list."))
    authenticity_min = IntegerFilter(_l("Authenticity at least"), minimum=0, maximum=100,
                                     message=_l("Enter a score between 0 and 100."))
    verified = CheckFilter(_l("Real-name verified only"))
    accepting = CheckFilter(_l("Accepting orders only"))
    sort = ChoiceFilter(_l("Sort by"), SORT_LABELS, default="relevance",
                        message=_l("Unknown sort order. Choose one from the list."))

    def check(self) -> None:
        for low, high in (("followers_min", "followers_max"), ("price_min", "price_max")):
            if self.data[low] is not None and self.data[high] is not None and self.data[low] > self.data[high]:
                self.error(high, _l("The upper bound is below the lower bound."))


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
