"""Human labels (translated) for the codes stored in the database."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STAFF_ROLE_LABELS = {
    "reviewer": _l("Reviewer"),
    "finance": _l("Finance staff"),
    "admin": _l("Administrator"),
}
