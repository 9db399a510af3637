"""Discovery for brands: find creators (/discover), shortlists, and the side-by-side comparison.

Each handler: load (404) -> authorize (403) -> validate -> one service -> commit -> redirect (or, for an htmx
request, the fragment of the page it changes). The search page and the comparison act for the enterprise
chosen as context; shortlist URLs name their enterprise.
"""

from __future__ import annotations

from functools import lru_cache

from babel.numbers import format_percent as babel_format_percent
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from marketplace import authz
from marketplace.creators import shortlists as services
from marketplace.creators.discovery_forms import (
    SORT_LABELS,
    AddToShortlistForm,
    DiscoverForm,
    NoteForm,
    ShortlistForm,
)
from marketplace.creators.models import Shortlist, ShortlistEntry
from marketplace.creators.search import COUNT_CAP, CreatorCard, SearchQuery, search_creators, shortlist_marks
from marketplace.creators.taxonomy import CATEGORIES, CONTENT_TYPES
from marketplace.db import get_session
from marketplace.enterprises.models import Enterprise
from marketplace.errors import DomainError
from marketplace.forms import ActionForm, apply_domain_error, safe_next
from marketplace.i18n import current_language, number_formats
from marketplace.main.templating import UrlPattern
from marketplace.money import CURRENCY_EXPONENTS

try:  # markupsafe's escaping of a str, without wrapping the result in Markup (the text goes into a format string)
    from markupsafe._speedups import _escape_inner as _escape_text
except ImportError:  # pragma: no cover - markupsafe without its C speedups
    def _escape_text(text: str) -> str:
        return str(escape(text))

bp = Blueprint("discovery", __name__)


@bp.app_template_filter("engagement")
def engagement_percent(basis_points: int | None) -> str:
    """Basis points as a percentage with one decimal, in the reader's language: 350 -> 3.5%."""
    if basis_points is None:
        return "—"
    return _percent(basis_points, current_language())


@lru_cache(maxsize=4096)
def _percent(basis_points: int, language: str) -> str:  # a result page shows 20 of a few hundred values
    return babel_format_percent(basis_points / 10000, format="#,##0.0%", locale=language)

# An htmx fragment that reports a problem (the page's htmx config swaps 422 in, like a 200).
FRAGMENT_ERROR = 422


def _htmx() -> bool:
    """Is this an htmx request for a fragment (not a history restore, which needs the whole page)?"""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def _fragment_or_page(fragment: str, page: str, status: int = 200, **context):
    htmx = _htmx()
    if htmx and status >= 400:
        status = FRAGMENT_ERROR
    response = make_response(render_template(fragment if htmx else page, **context), status)
    response.vary.add("HX-Request")
    return response


def _load_enterprise(enterprise_id: int) -> Enterprise:
    enterprise = get_session().get(Enterprise, enterprise_id)
    if enterprise is None:
        abort(404)
    return enterprise


def _load_shortlist(enterprise: Enterprise, shortlist_id: int) -> Shortlist:
    shortlist = get_session().get(Shortlist, shortlist_id)
    if shortlist is None or shortlist.enterprise_id != enterprise.id:
        abort(404)
    return shortlist


def _shortlist_choices(enterprise: Enterprise) -> list[Shortlist]:
    return services.shortlist_choices(get_session(), enterprise.id)


# --- finding creators ------------------------------------------------------------------------------------


def card_labels() -> dict[str, str]:
    """The labels every result card repeats, translated once per language (and this session's CSRF token)."""
    return {**_card_labels(current_language()), "csrf": generate_csrf()}


def _card_labels(language: str) -> dict[str, str]:
    labels = _LABELS.get(language)
    if labels is None:
        labels = _LABELS[language] = {
            "followers": _("Followers"), "engagement": _("Engagement"), "categories": _("Categories"),
            "verified": _("Verified"), "verified_title": _("A Canal reviewer checked this creator’s ID document."),
            "closed": _("Not accepting orders"), "shortlist": _("Shortlist"), "new_shortlist": _("+ New shortlist"),
            "on": _("On:"),
            "unscored": _("Authenticity: not scored"),
            "unscored_title": _("Not scored yet: the score needs the platform’s statistics."),
            "authentic": _("Authentic"), "authentic_title": _("Followers, plays and engagement look earned."),
            "doubts": _("Some doubts"), "doubts_title": _("Some numbers are out of line with similar creators."),
            "suspicious": _("Suspicious"),
            "suspicious_title": _("Likely bought followers or likes: see the profile for the reasons."),
        }
    return labels


_LABELS: dict[str, dict[str, str]] = {}


class ResultCard:
    """A search result as its card shows it: ``body`` is the card's markup up to its shortlist control (written
    here, once per card: the busiest markup brands get), ``lists`` the shortlists it is on."""

    __slots__ = ("id", "body", "lists")

    def __init__(self, id: int, body: Markup, lists):  # noqa: A002 - the creator's id, as templates name it
        self.id, self.body, self.lists = id, body, lists


def result_cards(cards: list[CreatorCard], language: str, labels: dict[str, str], category_labels: dict[str, str],
                 in_lists: dict[int, list], price_label: str) -> list[ResultCard]:
    """Format and write a page of results once, in Python: the template only places them. A card's markup up to
    its shortlist control (``creator_articles`` writes the <article> around it and the control after it), every
    value escaped where it is written; labels are ``card_labels``, escaped once per page. f-strings: ``str.format``
    with named fields parsed its template again for every card."""
    numbers = number_formats(language)
    compact, money, esc = numbers.compact, numbers.money, _escape_text
    profile_url = UrlPattern.cached("creator_profiles.profile", "creator_id")
    avatar_url = UrlPattern.cached("creator_profiles.avatar", "creator_id", "v")
    exponent = CURRENCY_EXPONENTS["CNY"]
    t = {name: esc(value) for name, value in labels.items()}
    verified = f'<span class="badge badge-verified" title="{t["verified_title"]}">✓ {t["verified"]}</span>'
    closed = f'<span class="badge badge-unverified">{t["closed"]}</span>'
    badges = {"unscored": ("badge-unverified", t["unscored_title"], t["unscored"]),
              "authentic": ("badge-verified", t["authentic_title"], t["authentic"]),
              "doubts": ("badge-pending", t["doubts_title"], t["doubts"]),
              "suspicious": ("badge-rejected", t["suspicious_title"], t["suspicious"])}
    followers_label, engagement_label, price_label = t["followers"], t["engagement"], esc(price_label)
    tags_label = t["categories"]
    rows = []
    for card in cards:
        score = card.authenticity_score
        if score is None:
            badge_class, badge_title, badge_text = badges["unscored"]
        else:
            kind = "authentic" if score >= 80 else "doubts" if score >= 60 else "suspicious"
            badge_class, badge_title, text = badges[kind]
            badge_text = f"{text} {int(score)}"
        id_, name = int(card.id), esc(card.display_name)
        if card.avatar_file_id:
            avatar = (f'<img class="creator-avatar" src="{esc(avatar_url(id_, card.avatar_file_id))}" alt="" '
                      f'width="48" height="48" loading="lazy">')
        else:
            avatar = (f'<span class="creator-avatar creator-avatar-initial" aria-hidden="true">'
                      f'{esc(card.display_name[:1])}</span>')
        handle = f'<p class="muted small">@{esc(card.handle)}</p>' if card.handle else ""
        tags = (f'<ul class="tags" aria-label="{tags_label}">'
                + "".join(f'<li class="tag">{esc(category_labels.get(c, c))}</li>' for c in card.categories)
                + "</ul>") if card.categories else ""
        price = "—" if card.price is None else esc(money(card.price, "CNY", exponent))
        body = f"""
        <div class="creator-head">
          {avatar}
          <div class="creator-id">
            <h3 id="creator-{id_}-name"><a href="{profile_url(id_)}">{name}</a></h3>
            {handle}
          </div>
        </div>
        <p class="creator-badges">
          {verified if card.verified else ""}
          <span class="badge {badge_class}" title="{badge_title}">{badge_text}</span>
          {"" if card.accepting_orders else closed}
        </p>
        {tags}
        <dl class="creator-stats">
          <div><dt>{followers_label}</dt><dd>{esc(compact(card.followers))}</dd></div>
          <div><dt>{engagement_label}</dt><dd>{esc(_percent(card.engagement_bp, language))}</dd></div>
          <div><dt>{price_label}</dt><dd>{price}</dd></div>
        </dl>"""
        rows.append(ResultCard(id_, Markup(body), in_lists.get(card.id, ())))
    return rows


_STAND_IN = "<creator-id>"


@bp.app_template_global()
def creator_id_stand_in() -> Markup:
    """Where a creator's id goes in a control written once for a page of cards (``_results.html``): raw
    markup, so no escaped text on the page can read the same."""
    return Markup(_STAND_IN)


@bp.app_template_global()
def creator_articles(cards: list[ResultCard], widget: Markup | None, listed_on) -> Markup:
    """The result grid's ``<article>``s: each card's body, then its shortlist control — ``widget`` (written once
    with ``creator_id_stand_in``) stamped with the creator's id, or ``listed_on(card)`` for a card on some of the
    brand's lists (and, for a reader who cannot edit shortlists, only for those)."""
    pieces = str(widget).split(_STAND_IN) if widget is not None else None
    articles = []
    for card in cards:
        if card.lists:
            control = str(listed_on(card))
        elif pieces is not None:
            control = str(card.id).join(pieces)
        else:
            control = ""
        articles.append(f'<article class="creator-card" aria-labelledby="creator-{card.id}-name">{card.body}\n'
                        f'        {control}\n      </article>')
    return Markup("\n      ".join(articles))


@bp.app_template_global()
def shortlist_widget_for(creator) -> Markup | str:
    """The "add to shortlist" control for a creator's page, when the user acts for an enterprise whose
    shortlists they may change (owner, manager) and the creator is listed; otherwise nothing."""
    context = authz.current_context()
    enterprise = context.enterprise if context.kind == "enterprise" else None
    if enterprise is None or not creator.listed or not authz.can(current_user, "enterprise.shortlists.edit", enterprise):
        return ""
    choices, on = shortlist_marks(get_session(), enterprise.id, [creator.id])
    return Markup(render_template(
        "discovery/_shortlist_widget.html", enterprise=enterprise, creator_id=creator.id, here=request.path,
        shortlists=choices, lists_of_creator=on.get(creator.id, []), notice=None, error=None, t=card_labels()))


def _filter_options(language: str) -> dict[str, list[tuple[str, str]]]:
    """The filter form's choices, translated once per language (the page renders them on every search)."""
    if language not in _OPTIONS:
        _OPTIONS[language] = {name: [(value, str(label)) for value, label in DiscoverForm.filters[name].choices]
                              for name in ("sort", "category", "region", "content_type", "audience_gender",
                                           "audience_age")}
    return _OPTIONS[language]


_OPTIONS: dict[str, dict[str, list[tuple[str, str]]]] = {}


def _category_labels(language: str) -> dict[str, str]:
    if language not in _CATEGORY_LABELS:
        _CATEGORY_LABELS[language] = {code: str(label) for code, label in CATEGORIES.items()}
    return _CATEGORY_LABELS[language]


_CATEGORY_LABELS: dict[str, dict[str, str]] = {}


@bp.get("/discover")
@login_required
def discover():
    enterprise = authz.require_acting_enterprise("enterprise.discover")
    form = DiscoverForm(request.args)
    results, status, query = None, 200, SearchQuery()
    db = get_session()
    if form.validate():
        query = SearchQuery.from_form(form, request.args.get("page", 1))
        results = search_creators(db, query, enterprise_id=enterprise.id)  # with the shortlist marks
    else:
        status = 400
    shortlists, in_lists = (results.shortlists, results.shortlisted) if results else ([], {})
    editor = authz.can(current_user, "enterprise.shortlists.edit", enterprise)
    language = current_language()
    labels = card_labels()
    return _fragment_or_page(
        "discovery/_results.html", "discovery/discover.html", status,
        form=form, results=results, enterprise=enterprise, count_cap=COUNT_CAP,
        sort_label=str(SORT_LABELS[query.effective_sort]),
        cards=result_cards(results.items, language, labels, _category_labels(language), in_lists,
                           str(CONTENT_TYPES[query.content_type])) if results else [],
        editor=editor, shortlists=shortlists if editor else [], t=labels,
        here=request.full_path if request.query_string else request.path,
        options=None if _htmx() else _filter_options(language),
    )


@bp.get("/compare")
@login_required
def compare():
    enterprise = authz.require_acting_enterprise("enterprise.discover")
    creators, error = [], None
    try:
        creators = services.creators_to_compare(get_session(), services.parse_compare_ids(request.args.getlist("ids")))
    except DomainError as exc:
        error = exc
    return render_template("discovery/compare.html", enterprise=enterprise, creators=creators, error=error,
                           content_types=CONTENT_TYPES, categories=CATEGORIES, t=card_labels(),
                           back=safe_next(request.args.get("back"))), (error.status_code if error else 200)


# --- shortlists ------------------------------------------------------------------------------------------


@bp.get("/enterprises/<int:enterprise_id>/shortlists")
@login_required
def shortlists(enterprise_id: int):
    enterprise = _load_enterprise(enterprise_id)
    authz.require("enterprise.shortlists.view", enterprise)
    return _render_shortlists(enterprise, ShortlistForm())


def _render_shortlists(enterprise: Enterprise, form: ShortlistForm, status: int = 200):
    return render_template("discovery/shortlists.html", enterprise=enterprise, form=form,
                           lists=services.shortlists_of(get_session(), enterprise.id)), status


@bp.post("/enterprises/<int:enterprise_id>/shortlists")
@login_required
def create_shortlist(enterprise_id: int):
    enterprise = _load_enterprise(enterprise_id)
    authz.require("enterprise.shortlists.edit", enterprise)
    form = ShortlistForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            shortlist = services.create_shortlist(db, current_user, enterprise, form.name.data)
            db.commit()
        except DomainError as error:
            db.rollback()
            if not apply_domain_error(form, error):
                flash(error.message, "error")
        else:
            flash(_("Shortlist “%(name)s” created. Add creators from the search results.", name=shortlist.name),
                  "success")
            return redirect(url_for("discovery.shortlist", enterprise_id=enterprise.id, shortlist_id=shortlist.id))
    return _render_shortlists(enterprise, form, 400)


@bp.get("/enterprises/<int:enterprise_id>/shortlists/<int:shortlist_id>")
@login_required
def shortlist(enterprise_id: int, shortlist_id: int):
    enterprise = _load_enterprise(enterprise_id)
    shortlist = _load_shortlist(enterprise, shortlist_id)
    authz.require("enterprise.shortlists.view", shortlist)
    return _render_shortlist(enterprise, shortlist, ShortlistForm(obj=shortlist))


def _render_shortlist(enterprise: Enterprise, shortlist: Shortlist, rename_form: ShortlistForm, status: int = 200):
    return render_template("discovery/shortlist.html", enterprise=enterprise, shortlist=shortlist,
                           rename_form=rename_form, action_form=ActionForm(), content_types=CONTENT_TYPES,
                           categories=CATEGORIES, max_compare=services.MAX_COMPARE), status


@bp.post("/enterprises/<int:enterprise_id>/shortlists/<int:shortlist_id>/rename")
@login_required
def rename_shortlist(enterprise_id: int, shortlist_id: int):
    enterprise = _load_enterprise(enterprise_id)
    shortlist = _load_shortlist(enterprise, shortlist_id)
    authz.require("enterprise.shortlists.edit", shortlist)
    form = ShortlistForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.rename_shortlist(db, shortlist, form.name.data)
            db.commit()
        except DomainError as error:
            db.rollback()
            if not apply_domain_error(form, error):
                flash(error.message, "error")
        else:
            flash(_("Renamed."), "success")
            return redirect(url_for("discovery.shortlist", enterprise_id=enterprise.id, shortlist_id=shortlist.id))
    get_session().refresh(shortlist)
    return _render_shortlist(enterprise, shortlist, form, 400)


@bp.post("/enterprises/<int:enterprise_id>/shortlists/<int:shortlist_id>/delete")
@login_required
def delete_shortlist(enterprise_id: int, shortlist_id: int):
    enterprise = _load_enterprise(enterprise_id)
    shortlist = _load_shortlist(enterprise, shortlist_id)
    authz.require("enterprise.shortlists.edit", shortlist)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    name = shortlist.name
    services.delete_shortlist(db, shortlist)
    db.commit()
    flash(_("Shortlist “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("discovery.shortlists", enterprise_id=enterprise.id))


@bp.post("/enterprises/<int:enterprise_id>/shortlists/entries")
@login_required
def add_entry(enterprise_id: int):
    """Add a creator to one of the enterprise's shortlists (from a search result or a profile page).

    ``shortlist`` is a shortlist id, "new" (a new list named "Shortlist 2"…), or "default" (the list named
    "Shortlist", created on first use: what cards offer while the enterprise has no list)."""
    enterprise = _load_enterprise(enterprise_id)
    authz.require("enterprise.shortlists.edit", enterprise)
    form = AddToShortlistForm()
    back = safe_next(form.next.data) or url_for("discovery.discover")
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    try:
        if form.shortlist.data == "new":
            target = services.create_shortlist(db, current_user, enterprise,
                                               services.default_shortlist_name(db, enterprise.id))
        elif form.shortlist.data == "default":
            target = services.default_shortlist(db, current_user, enterprise)
        elif form.shortlist.data.isdigit():
            target = _load_shortlist(enterprise, int(form.shortlist.data))
        else:
            abort(400)
        _entry, added = services.add_to_shortlist(db, current_user, target, form.creator_id.data)
        db.commit()
    except DomainError as error:
        db.rollback()
        if _htmx():
            return _shortlist_widget(enterprise, form.creator_id.data, back, error=error.message,
                                     status=FRAGMENT_ERROR)
        flash(error.message, "error")
        return redirect(back)
    message = (_("Added to “%(name)s”.", name=target.name) if added
               else _("Already on “%(name)s”.", name=target.name))
    if _htmx():
        return _shortlist_widget(enterprise, form.creator_id.data, back, notice=message)
    flash(message, "success")
    return redirect(back)


def _shortlist_widget(enterprise: Enterprise, creator_id: int, back: str, notice: str | None = None,
                      error: str | None = None, status: int = 200):
    db = get_session()
    response = make_response(render_template(
        "discovery/_shortlist_widget.html", enterprise=enterprise, creator_id=creator_id, here=back,
        shortlists=_shortlist_choices(enterprise),
        lists_of_creator=services.shortlisted_in(db, enterprise.id, [creator_id]).get(creator_id, []),
        notice=notice, error=error, t=card_labels()), status)
    response.vary.add("HX-Request")
    return response


def _entry_or_404(shortlist: Shortlist, creator_id: int) -> ShortlistEntry:
    entry = next((e for e in shortlist.entries if e.creator_id == creator_id), None)
    if entry is None:
        abort(404)
    return entry


@bp.post("/enterprises/<int:enterprise_id>/shortlists/<int:shortlist_id>/entries/<int:creator_id>/remove")
@login_required
def remove_entry(enterprise_id: int, shortlist_id: int, creator_id: int):
    enterprise = _load_enterprise(enterprise_id)
    shortlist = _load_shortlist(enterprise, shortlist_id)
    authz.require("enterprise.shortlists.edit", shortlist)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    removed = services.remove_from_shortlist(db, shortlist, creator_id)
    db.commit()
    if _htmx():
        return "", 200  # the row is swapped for nothing
    if removed:
        flash(_("Removed from “%(name)s”.", name=shortlist.name), "success")
    return redirect(url_for("discovery.shortlist", enterprise_id=enterprise.id, shortlist_id=shortlist.id))


@bp.post("/enterprises/<int:enterprise_id>/shortlists/<int:shortlist_id>/entries/<int:creator_id>/note")
@login_required
def update_note(enterprise_id: int, shortlist_id: int, creator_id: int):
    enterprise = _load_enterprise(enterprise_id)
    shortlist = _load_shortlist(enterprise, shortlist_id)
    authz.require("enterprise.shortlists.edit", shortlist)
    entry = _entry_or_404(shortlist, creator_id)
    form = NoteForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        try:
            services.set_entry_note(db, shortlist, creator_id, form.note.data or "")
            db.commit()
        except DomainError as exc:
            db.rollback()
            error = exc.message
    else:
        error = " ".join(str(m) for m in form.note.errors) or _("Your form expired. Reload the page and try again.")
    if _htmx():
        return render_template("discovery/_note_form.html", enterprise=enterprise, shortlist=shortlist,
                               entry=entry, note=form.note.data if error else entry.note, error=error,
                               saved=error is None), (FRAGMENT_ERROR if error else 200)
    if error:
        flash(error, "error")
    else:
        flash(_("Note saved."), "success")
    return redirect(url_for("discovery.shortlist", enterprise_id=enterprise.id, shortlist_id=shortlist.id))
