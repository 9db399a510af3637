"""The main navigation written in Python (``templating.main_nav``, built once per language, context and
permissions) is the navigation the template used to write: same links, labels, current marks and menus, for every
context, role, staff role, current page, language and application root. The reference is the template as it was
(Jinja macros asking ``can()`` and ``url_for`` per link), rendered side by side and compared modulo whitespace."""

from __future__ import annotations

import re

import pytest
from flask import g, request

from marketplace import authz
from marketplace.accounts.models import User
from marketplace.enterprises.models import Enterprise, Membership

REFERENCE = """
{% macro item(endpoint, label, current) -%}
  <a href="{{ url_for(endpoint, **kwargs) }}" {% if current %}aria-current="page"{% endif %}>{{ label }}</a>
{%- endmacro %}
{% macro menu_item(endpoint, label, current) -%}
  <a class="menu-item{% if current %} is-current{% endif %}" href="{{ url_for(endpoint, **kwargs) }}" {% if current %}aria-current="page"{% endif %}>{{ label }}</a>
{%- endmacro %}
{% set ep = request.endpoint or "" %}
    <nav class="mainnav" aria-label="{{ _('Main') }}">
      {% if ctx.kind == "enterprise" %}
        {% set e = ctx.enterprise %}
        {{ item("enterprises.overview", _("Overview"), ep == "enterprises.overview", enterprise_id=e.id) }}
        {% if can("enterprise.discover", e) %}
        {{ item("discovery.discover", _("Find creators"), ep in ("discovery.discover", "discovery.compare")) }}
        {{ item("discovery.shortlists", _("Shortlists"), ep in ("discovery.shortlists", "discovery.shortlist"), enterprise_id=e.id) }}
        {% endif %}
        {% if can("enterprise.orders.view", e) %}
        {{ item("jobs.campaigns", _("Campaigns"), ep.startswith("jobs.campaign"), enterprise_id=e.id) }}
        {{ item("jobs.jobs", _("Jobs"), ep in ("jobs.jobs", "jobs.job", "jobs.job_new", "jobs.job_edit", "jobs.application"), enterprise_id=e.id) }}
        {{ item("orders.board", _("Orders"), ep in ("orders.board", "orders.detail", "orders.offer_new"), enterprise_id=e.id) }}
        {% endif %}
        {% if can("enterprise.finance", e) %}
        {{ item("payments.wallet", _("Wallet"), ep.startswith("payments"), enterprise_id=e.id) }}
        {% endif %}
        {% set company_current = ep in ("enterprises.members", "enterprises.edit") %}
        <details class="menu nav-menu">
          <summary{% if company_current %} class="is-current"{% endif %}>{{ _("Company") }}</summary>
          <div class="menu-panel">
            {{ menu_item("enterprises.members", _("Members"), ep == "enterprises.members", enterprise_id=e.id) }}
            {% if can("enterprise.edit", e) %}{{ menu_item("enterprises.edit", _("Company details"), ep == "enterprises.edit", enterprise_id=e.id) }}{% endif %}
          </div>
        </details>
      {% elif ctx.kind == "creator" %}
        {{ item("creators.home", _("Dashboard"), ep == "creators.home") }}
        {{ item("jobs.board", _("Job board"), ep in ("jobs.board", "jobs.job")) }}
        {{ item("orders.offers", _("Offers"), ep == "orders.offers") }}
        {{ item("orders.my_orders", _("Orders"), ep in ("orders.my_orders", "orders.detail")) }}
        {{ item("jobs.my_applications", _("Applications"), ep in ("jobs.my_applications", "jobs.application")) }}
        {% set profile_current = ep in ("creators.profile", "creators.rate_card", "creators.platform", "creators.verification") %}
        <details class="menu nav-menu">
          <summary{% if profile_current %} class="is-current"{% endif %}>{{ _("My profile") }}</summary>
          <div class="menu-panel">
            {{ menu_item("creators.profile", _("Profile"), ep == "creators.profile") }}
            {{ menu_item("creators.rate_card", _("Rate card"), ep == "creators.rate_card") }}
            {{ menu_item("creators.platform", _("Platform account"), ep == "creators.platform") }}
            {{ menu_item("creators.verification", _("ID verification"), ep == "creators.verification") }}
          </div>
        </details>
      {% elif ctx.kind == "staff" %}
        {{ item("staff.home", _("Console"), ep == "staff.home") }}
        {% if can("staff.verification") %}
        {{ item("staff.enterprises", _("Verification"), ep.startswith("staff.enterprise")) }}
        {{ item("staff.identity_queue", _("Creator identity"), ep.startswith("staff.identity")) }}
        {% endif %}
        {% if can("staff.jobs") or can("staff.disputes") %}
        {{ item("review.jobs" if can("staff.jobs") else "review.disputes", _("Review queues"), ep.startswith("review.")) }}
        {% endif %}
        {% if can("staff.audit") %}{{ item("staff.audit", _("Audit log"), ep == "staff.audit") }}{% endif %}
        {% if can("finance.view") %}{{ item("finance.home", _("Finance"), ep.startswith("finance")) }}{% endif %}
        {% if can("staff.users") %}{{ item("staff.users", _("Users"), ep == "staff.users") }}{% endif %}
      {% endif %}
    </nav>
"""

def _render(app, template, context: authz.Context) -> str:
    """``template`` with ``ctx`` and what Flask gives every template (request, current_user, csrf_token, ...)."""
    variables = {"ctx": context}
    app.update_template_context(variables)
    return template.render(variables)


def _normalised(html: str) -> str:
    html = re.sub(r"\s+", " ", html)
    html = re.sub(r"\s*>", ">", html)
    return re.sub(r">\s+<", "><", html).strip()


def _cases():
    for role in ("owner", "manager", "finance", "viewer"):
        yield "enterprise", role, None
    yield "enterprise", "viewer", "reviewer"  # a staff member who is also a member of a brand
    yield "creator", None, None
    for staff_role in ("reviewer", "finance", "admin"):
        yield "staff", None, staff_role


@pytest.mark.parametrize(("kind", "role", "staff_role"), list(_cases()))
@pytest.mark.parametrize(("locale", "root"), [("en", ""), ("zh_CN", ""), ("en", "/canal")])
def test_navigation_is_the_templates(app, kind, role, staff_role, locale, root):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}  # every page of the app, and none
    reference, include = app.jinja_env.from_string(REFERENCE), app.jinja_env.from_string('{% include "_nav.html" %}')
    user = User(id=7, email="nav@example.com", display_name="Nav", locale=locale, timezone="Asia/Shanghai",
                staff_role=staff_role, is_active=True, session_version=1)
    enterprise = Enterprise(id=42, display_name="Nav Brand")
    for endpoint in [None, *sorted(rules)]:
        with app.test_request_context("/no-such-page", base_url=f"http://localhost{root}/"):
            g._login_user = user
            context = authz.Context(kind, enterprise if kind == "enterprise" else None, role)
            g._available_contexts = {user.id: [context]}
            if role:
                g._memberships = {(user.id, enterprise.id): Membership(user_id=user.id, enterprise_id=42, role=role)}
            if endpoint is not None:
                request.url_rule = rules[endpoint]
            assert request.endpoint == endpoint
            expected = _render(app, reference, context)
            assert _normalised(_render(app, include, context)) == _normalised(expected), (endpoint, locale)
            if endpoint == "enterprises.overview" and kind == "enterprise" and root == "" and locale == "en":
                assert '<a href="/enterprises/42" aria-current="page">Overview</a>' in expected
            if locale == "zh_CN" and kind == "creator":
                assert "仪表盘" in expected or "Dashboard" not in expected  # the labels are translated


def test_a_changed_role_shows_on_the_next_request(app):
    """The links are remembered per set of permissions, not per user: a viewer who becomes an owner (or the
    reverse) sees the owner's links on the next page, and the viewer's again after."""
    user = User(id=8, email="nav2@example.com", display_name="Nav", locale="en", timezone="Asia/Shanghai",
                staff_role=None, is_active=True, session_version=1)
    enterprise = Enterprise(id=43, display_name="Nav Brand")
    seen = []
    for role in ("viewer", "owner", "viewer"):
        with app.test_request_context("/"):
            g._login_user = user
            context = authz.Context("enterprise", enterprise, role)
            g._available_contexts = {user.id: [context]}
            g._memberships = {(user.id, 43): Membership(user_id=user.id, enterprise_id=43, role=role)}
            seen.append(_render(app, app.jinja_env.get_template("_nav.html"), context))
    assert "/enterprises/43/wallet" not in seen[0] and "/enterprises/43/edit" not in seen[0]
    assert "/enterprises/43/wallet" in seen[1] and "/enterprises/43/edit" in seen[1]
    assert seen[2] == seen[0]
