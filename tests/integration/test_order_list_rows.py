"""The rows of the board and of the creator's order list: deadlines read as Babel writes them (the remembered
``relative`` against ``format_timedelta`` itself, in both languages), and row text is escaped."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, format_timedelta

from marketplace.orders import views


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_relative_is_babels_format_timedelta(app, language):
    rng = random.Random(7)
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    seconds = [0, 1, -1, 59, 60, 61, 89, 90, 3599, 3600, 5400, 86399, 86400, 95040, 95041, 6.6 * 86400,
               7.7 * 86400, 7.8 * 86400, 29 * 86400, 33 * 86400, 365 * 86400, 400 * 86400, 3 * 365 * 86400]
    seconds += [rng.uniform(-1, 1) * 10 ** rng.uniform(0, 8) for _ in range(3000)]
    with app.test_request_context(), force_locale(language):
        for s in seconds + [-s for s in seconds]:
            when = now + timedelta(seconds=s)
            assert views.relative(when, now) == format_timedelta(when - now, add_direction=True, threshold=1.1), s


def test_list_rows_escape_what_users_wrote(app):
    row = views.PageRow(id=7, url="/orders/7", title='<script>alert("t")</script>', state_label="Offered",
                        tone="info", type_label="Short video", amount="¥1.00",
                        deadline={"label": "Offer expires", "text": "in 3 days", "soon": True}, unread=2,
                        party_name="<b>Creator</b>", party_handle="h<i>", campaign="<u>C</u>")
    with app.test_request_context():
        for side in ("brand", "creator"):
            html = str(views.rows_html([row], side=side))
            assert "<script>" not in html and "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in html
            assert "<b>" not in html and "&lt;b&gt;Creator&lt;/b&gt;" in html
            assert 'class="deadline deadline-soon"' in html and '<span class="unread">2<span' in html
        brand_html = str(views.rows_html([row], side="brand"))
        assert "@h&lt;i&gt;" in brand_html and "&lt;u&gt;C&lt;/u&gt;" in brand_html
