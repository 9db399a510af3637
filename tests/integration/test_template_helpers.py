"""The per-request shortcuts in templates write exactly what the general tools write (marketplace.main.templating):
translations without Jinja's %-formatting of plain strings, URLs built once per page, options written in Python."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string, url_for
from jinja2.ext import _make_new_gettext, _make_new_ngettext

from marketplace.extensions import babel
from marketplace.main.templating import UrlPattern, app_url, select_options, url_with_page

CATALOG = Path(__file__).resolve().parents[2] / "marketplace/translations/zh_CN/LC_MESSAGES/messages.po"


def _msgids() -> list[str]:
    with CATALOG.open(encoding="utf-8") as po:
        return [m.id for m in read_po(po) if isinstance(m.id, str) and m.id]


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_template_gettext_matches_jinja_new_style_gettext(app, language):
    reference = _make_new_gettext(lambda s: babel.domain_instance.get_translations().ugettext(s))

    def rendered(source: str, msgid: str) -> str:
        try:
            return render_template_string(source, s=msgid, reference=reference)
        except (ValueError, KeyError, TypeError) as exc:  # "%" that is no format: both refuse it alike
            return type(exc).__name__

    with app.test_request_context(headers={"Accept-Language": language}):
        for msgid in _msgids():
            assert rendered("{{ _(s) }}", msgid) == rendered("{{ reference(s) }}", msgid), msgid
        # Variables are escaped, the text is not: as before.
        assert render_template_string('{{ _("<b>%(n)s</b>", n="<i>") }}') == "<b>&lt;i&gt;</b>"
        plural = _make_new_ngettext(lambda s, p, n: babel.domain_instance.get_translations().ungettext(s, p, n))
        for n in (1, 3):
            source = '{{ f("%(num)s creator", "%(num)s creators", n) }}'
            assert render_template_string(source.replace("f(", "ngettext("), n=n) == \
                render_template_string(source, f=plural, n=n)


def test_url_patterns_build_what_url_for_builds(app):
    with app.test_request_context("/discover?q=%E7%BE%8E%E5%A6%86&page=3&sort=followers"):
        profile = UrlPattern("creator_profiles.profile", "creator_id")
        avatar = UrlPattern("creator_profiles.avatar", "creator_id", "v")
        for creator_id in (1, 42, 7_319_000_000_001, 10 ** 12):
            assert profile(creator_id) == url_for("creator_profiles.profile", creator_id=creator_id)
            assert avatar(creator_id, 9) == url_for("creator_profiles.avatar", creator_id=creator_id, v=9)
        for page in (1, 2, 500):
            expected = url_for("discovery.discover", q="美妆", page=page, sort="followers")
            assert url_with_page(page) == expected


def test_app_urls_are_url_for_per_application_root(app):
    for root in ("", "/canal"):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for endpoint, values in (("static", {"filename": "css/canal.css"}), ("main.index", {}),
                                     ("accounts.logout", {})):
                assert app_url(endpoint, **values) == url_for(endpoint, **values)
                assert app_url(endpoint, **values).startswith(root + "/")


def test_select_options_match_the_template_loop(app):
    options = [("", "Any"), ("44", "广东"), ("a&b", "<Tom & Jerry>"), ("x\"y", "quote\"d")]
    loop = ('{% for code, label in options %}<option value="{{ code }}"{% if code == chosen %} selected{% endif %}>'
            "{{ label }}</option>{% endfor %}")
    with app.test_request_context():
        for chosen in ("", "44", "a&b", "missing"):
            assert str(select_options(options, chosen)) == render_template_string(loop, options=options, chosen=chosen)
