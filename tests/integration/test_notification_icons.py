"""Every notification kind has its own glyph in the inbox's icon column: none falls back to the "•" of a kind nobody
gave one, so a kind added to ``KINDS`` without an icon fails here. The money kinds read at a glance: a top-up added
to the wallet (⊕), a withdrawal paid to the bank (↗), its amount back in the wallet (↩)."""

from __future__ import annotations

import re

import pytest

from marketplace.notifications.services import KINDS, notify
from marketplace.notifications.views import KIND_ICONS, kind_icon

FALLBACK = "•"


def test_a_kind_nobody_gave_an_icon_gets_the_fallback():
    assert kind_icon("something_new") == FALLBACK  # what the next test guards against


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_an_icon(kind):
    icon = kind_icon(kind)
    assert icon != FALLBACK, f"{kind!r} has no icon: add its prefix to KIND_ICONS"
    assert icon in KIND_ICONS.values() and len(icon) == 1


@pytest.mark.parametrize(("kind", "icon"), [
    ("bank_top_up_credited", "⊕"), ("bank_top_up_credited_other_amount", "⊕"), ("card_top_up_credited", "⊕"),
    ("withdrawal_paid", "↗"), ("withdrawal_rejected", "↩"), ("withdrawal_cancelled", "↩"),
    # the older kinds keep theirs (a money prefix must not capture them)
    ("offer_received", "¥"), ("cancelled", "✕"), ("confirmed", "✓"), ("review_received", "★"),
])
def test_the_money_kinds_icons(kind, icon):
    assert kind_icon(kind) == icon


def test_the_inbox_shows_the_money_icons(client, session, login_as, make_user):
    reader = make_user(display_name="Olivia Owner")
    params = {"code": "CNW00000042", "amount": "¥3,000.00", "enterprise": "Lakeside Tea"}
    notify(session, [reader], "bank_top_up_credited", url="/", email=False,
           params={"reference": "CNL0000007", "amount": "¥10,000.00", "enterprise": "Lakeside Tea"})
    notify(session, [reader], "withdrawal_paid", url="/", email=False, params={**params, "bank_reference": "CMB 1"})
    notify(session, [reader], "withdrawal_rejected", url="/", email=False, params={**params, "reason": "Closed"})
    session.flush()
    login_as(reader)
    html = client.get("/notifications").get_data(as_text=True)
    icons = re.findall(r'<span class="notification-icon" aria-hidden="true">(.*?)</span>', html)
    assert icons == ["↩", "↗", "⊕"]  # newest first
    assert FALLBACK not in icons
