"""Creator forms (shape only: handles, codes, prices and ID numbers are checked in creators.services)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from marketplace.creators import taxonomy
from marketplace.forms import choices
from marketplace.payments.forms import AmountField

CREATOR_KIND_LABELS = {
    "individual": _l("Individual"),
    "studio": _l("Studio"),
}


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a group of checkboxes (rendered by the ``field`` macro as a fieldset).

    Unknown values are not refused here: the service refuses them with a message on the field."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)


class ProfileForm(FlaskForm):
    handle = StringField(_l("Handle"), validators=[DataRequired(), Length(max=40)],
                         description=_l("3–30 lower-case letters, digits, dots or underscores; brands find you by it."))
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=80)])
    kind = RadioField(_l("You are"), choices=choices(CREATOR_KIND_LABELS.items()), default="individual",
                      validators=[DataRequired()], validate_choice=False)
    bio = TextAreaField(_l("Bio"), validators=[Length(max=1000)],
                        description=_l("What you make and for whom, in a few sentences."))
    categories = MultiCheckboxField(_l("Categories"), choices=choices(taxonomy.CATEGORIES.items()),
                                    description=_l("Up to three."))
    regions = MultiCheckboxField(_l("Regions"), choices=choices(taxonomy.REGIONS.items()),
                                 description=_l("Where you film, or where your audience lives."))
    languages = MultiCheckboxField(_l("Languages"), choices=choices(taxonomy.LANGUAGES.items()))
    accepting_orders = BooleanField(_l("Accepting orders"),
                                    description=_l("Brands can send you offers while this is on."))
    avatar = FileField(_l("Profile picture"),
                       description=_l("PNG, JPEG or WebP, at most 2 MB. We crop it to a square."))


class PlatformForm(FlaskForm):
    account = StringField(_l("Account handle or profile URL"), validators=[DataRequired(), Length(max=300)],
                          description=_l("Your handle on the video platform, or the link to your profile."))


def _price_field(content_type: str) -> AmountField:
    return AmountField(taxonomy.CONTENT_TYPES[content_type], validators=[Optional()],
                       description=_l("In yuan. Leave empty if you do not offer this."),
                       render_kw={"inputmode": "decimal"})


class RateCardForm(FlaskForm):
    price_short_video = _price_field("short_video")
    price_long_video = _price_field("long_video")
    price_livestream = _price_field("livestream")
    price_image_text = _price_field("image_text")
    revision_rounds = IntegerField(_l("Revision rounds included"), validators=[InputRequired()], default=1,
                                   render_kw={"min": 0, "max": 5, "inputmode": "numeric"},
                                   description=_l("0 to 5."))
    lead_time_days = IntegerField(_l("Lead time (days)"), validators=[InputRequired()], default=7,
                                  render_kw={"min": 1, "max": 90, "inputmode": "numeric"},
                                  description=_l("From accepting an order to the first draft: 1 to 90 days."))
    notes = TextAreaField(_l("Notes for brands"), validators=[Length(max=2000)],
                          description=_l("What is included, usage rights, what costs extra."))

    def price_fields(self):
        return [getattr(self, f"price_{content_type}") for content_type in taxonomy.CONTENT_TYPES]

    def prices(self) -> dict[str, int | None]:
        """Fen per content type (None where left empty)."""
        return {content_type: getattr(self, f"price_{content_type}").minor for content_type in taxonomy.CONTENT_TYPES}


class IdentityForm(FlaskForm):
    legal_name = StringField(_l("Name on the document"), validators=[DataRequired(), Length(max=80)],
                             description=_l("Your legal name, exactly as on the document."))
    id_type = SelectField(_l("Document"), choices=choices(taxonomy.ID_TYPES.items()), validators=[DataRequired()],
                          validate_choice=False)
    id_number = StringField(_l("Document number"), validators=[DataRequired(), Length(max=40)],
                            description=_l("We keep only the first character and the last four digits."))
    photo = FileField(_l("Photo of the document"),
                      description=_l("PNG or JPEG, at most 5 MB. Only Canal's reviewers see it."))


class IdentityRejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the creator"), validators=[DataRequired(), Length(min=5, max=1000)],
                           description=_l("Say exactly what to correct; the creator receives this text."))
