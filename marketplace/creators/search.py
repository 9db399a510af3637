"""Discovery search: what a brand asked for (``SearchQuery``) and the page of creators that answers it.

Invariants:
- only ``listed`` creators are ever returned;
- the keyword never scans: each term is an index lookup in the search index (``search_index``): terms of
  three or more characters through the trigram index, shorter ones through the CJK-bigram/word token index;
  several terms must all match;
- without a keyword, category or region, a page walks a sort index of ``creators`` and stops after the page,
  and the total is counted only up to ``COUNT_CAP`` (shown as "10,000+"): the cost does not grow with the
  table. With them, the cost follows the creators the indexes hand over (the keyword's matches, intersected
  with the category's and region's lists on SQLite): they are gathered once, counted exactly (shown capped)
  and the page is the top of their sort, all in the one statement that also returns the page's cards; on
  PostgreSQL a keyword's matches are filtered and sorted in ``creator_search`` itself, which carries the filter
  columns (facets);
- a keyword of short terms with at least one exact token (one or two CJK characters: most Chinese searches)
  is answered by the token index (``creator_tokens``) on both backends: one range of one index in followers
  order holds the matches with their facets, so the page and its count never leave it; so is browsing a
  category and/or a region without a keyword (their ``#c:``/``#r:`` tokens in the same index);
- a search is one statement (two for a full page without keyword, category or region: the capped count),
  built once per query shape (``_statements``); its values are bound parameters;
- relevance ranks exact name/handle hits first, then name/handle prefixes, then names containing every term,
  then category/region labels, then bio-only matches; ties go to the bigger audience.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    intersect,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from marketplace.creators.models import Creator, CreatorCategory, CreatorRegion, Shortlist, ShortlistEntry
from marketplace.creators.search_index import (
    CJK_RUN,
    CreatorSearch,
    category_token,
    creator_tokens,
    normalize,
    region_token,
    tokens_of,
)
from marketplace.db import hold_transaction
from marketplace.main.templating import Page

PER_PAGE = 20
COUNT_CAP = 10_000
MAX_PAGE = COUNT_CAP // PER_PAGE
MAX_TERMS = 5
TRIGRAM = 3
AUDIENCE_MAJORITY_PCT = 60  # "mostly women/men": at least this share of the audience


@dataclass(frozen=True)
class SearchQuery:
    """A validated discovery search. Money in fen, engagement in basis points, ``None`` = no filter."""

    q: str = ""
    category: str | None = None
    region: str | None = None
    followers_min: int | None = None
    followers_max: int | None = None
    content_type: str = "short_video"
    price_min: int | None = None
    price_max: int | None = None
    engagement_min_bp: int | None = None
    audience_gender: str | None = None  # "female" | "male": at least AUDIENCE_MAJORITY_PCT of the audience
    audience_age: str | None = None
    verified: bool = False
    accepting: bool = False
    authenticity_min: int | None = None
    sort: str = "relevance"
    page: int = 1

    @property
    def terms(self) -> tuple[str, ...]:
        """The keyword's distinct normalised terms (at most ``MAX_TERMS``)."""
        return tuple(dict.fromkeys(normalize(self.q).split()))[:MAX_TERMS]

    @property
    def effective_sort(self) -> str:
        """Relevance needs a keyword; without one the biggest audiences come first."""
        return "followers" if self.sort == "relevance" and not self.terms else self.sort

    @classmethod
    def from_form(cls, form: Any, page: Any = 1) -> SearchQuery:
        """The query of a validated ``DiscoverForm``."""
        data = form.data
        return cls(
            q=data["q"], category=data["category"], region=data["region"],
            followers_min=data["followers_min"], followers_max=data["followers_max"],
            content_type=data["content_type"], price_min=data["price_min"], price_max=data["price_max"],
            engagement_min_bp=data["engagement_min"], audience_gender=data["audience_gender"],
            audience_age=data["audience_age"], verified=data["verified"], accepting=data["accepting"],
            authenticity_min=data["authenticity_min"], sort=data["sort"], page=parse_page(page),
        )


def parse_page(value: Any) -> int:
    try:
        return min(MAX_PAGE, max(1, int(value)))
    except (TypeError, ValueError):
        return 1


@dataclass(frozen=True)
class CreatorCard:
    """What a search result shows of a creator, read straight from the columns (no ORM objects to build)."""

    id: int
    display_name: str
    handle: str | None
    avatar_file_id: int | None
    followers: int
    engagement_bp: int
    price: int | None  # for the query's content type, fen
    authenticity_score: int | None
    verified: bool
    accepting_orders: bool
    categories: tuple[str, ...]


@dataclass(frozen=True)
class ShortlistMark:
    """One of an enterprise's shortlists, as a result card offers it or says the creator is on it."""

    id: int
    name: str


@dataclass
class SearchPage(Page):
    """A page of results; ``capped`` when there are more than ``COUNT_CAP`` (then ``total`` is the cap).

    Asked for an enterprise's marks (``search_creators(enterprise_id=…)``), ``shortlists`` are its shortlists,
    newest first (the choices a card offers), and ``shortlisted`` maps the page's creators to the shortlists they
    are on, by name: what ``shortlist_marks`` answers, from the same statement."""

    items: list[CreatorCard]
    page: int
    per_page: int
    total: int
    capped: bool = False
    query: SearchQuery = field(default_factory=SearchQuery)
    shortlists: list[ShortlistMark] = field(default_factory=list)
    shortlisted: dict[int, list[ShortlistMark]] = field(default_factory=dict)


# --- the statement ---------------------------------------------------------------------------------------


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains_pattern(value: str) -> str:
    return f"%{_like_escape(value)}%"


def _fts_phrase(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _short_term_tokens(term: str) -> list[tuple[str, bool]]:
    """(token, prefix?) for a term too short for trigrams: CJK characters/bigrams exactly, words as prefixes."""
    cjk = "".join(CJK_RUN.findall(term))
    if cjk:  # 1–2 CJK characters: the bigram (or the single character) is the token
        return [(cjk, False)] + [(t, True) for t in tokens_of(CJK_RUN.sub(" ", term))]
    return [(t, True) for t in tokens_of(term)]


def _terms_split(terms: tuple[str, ...]) -> tuple[list[str], list[tuple[str, bool]]]:
    """Terms long enough for trigrams, and the tokens (token, prefix?) of the shorter ones."""
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    short_tokens = [tok for t in terms if len(t) < TRIGRAM for tok in _short_term_tokens(t)]
    return long_terms, short_tokens


TRIGRAM_FTS = table("creator_search_trgm", column("rowid"))
TOKEN_FTS = table("creator_search_tokens", column("rowid"))


def _fts_match(fts, match) -> Select:
    return select(fts.c.rowid).where(literal_column(fts.name).op("MATCH")(match))


def price_column(content_type: str):
    return getattr(Creator, f"price_{content_type}")


# --- the statements ---------------------------------------------------------------------------------------
#
# A statement depends on the query's *shape* (which filters are set, the sort, the content type, how many
# terms and which are long enough for trigrams), its values are bound parameters. Statements are built once
# per shape and kept (``_statements``): building one and computing its cache key costs more than running it
# on a small page, and SQLAlchemy keeps its compiled form with the statement.


@dataclass(frozen=True)
class _Shape:
    dialect: str
    long_terms: tuple[bool, ...]  # per term: long enough for the trigram index?
    category: bool
    region: bool
    followers_min: bool
    followers_max: bool
    content_type: str
    price_min: bool
    price_max: bool
    engagement_min: bool
    audience_gender: str | None
    audience_age: bool
    verified: bool
    accepting: bool
    authenticity_min: bool
    sort: str
    # Every term short and one of them an exact token: the token index (``creator_tokens``) answers the keyword,
    # its filters and its sort; per token, exact ones first, whether it is a prefix.
    index_tokens: tuple[bool, ...] = ()

    @property
    def terms(self) -> int:
        return len(self.long_terms)

    @property
    def short_terms(self) -> bool:
        return not all(self.long_terms)

    @property
    def facet_tokens(self) -> bool:
        """No keyword, and the token index answers the category and region (their tokens)."""
        return not self.long_terms and bool(self.index_tokens)


def _index_tokens(query: SearchQuery) -> list[tuple[str, bool]]:
    """The tokens (token, prefix?) the token index (``creator_tokens``) answers ``query`` with, exact ones
    first (without a keyword: the category's and the region's tokens) — or none when it cannot: a term of three or more characters (the trigram index's), only prefixes to look up (each
    would match many index ranges), or a relevance order that depends on more than one token (the index ranks
    a creator for one whole-keyword token only)."""
    terms = query.terms
    if not terms:  # browsing: a category, a region, or both are ranges of the index too (``category_token``)
        return [(token, False) for token in (query.category and category_token(query.category),
                                             query.region and region_token(query.region)) if token]
    long_terms, short_tokens = _terms_split(terms)
    if long_terms or not any(not prefix for _token, prefix in short_tokens):
        return []
    if query.effective_sort == "relevance" and not (len(short_tokens) == 1 and short_tokens[0][0] == terms[0]):
        return []
    return sorted(short_tokens, key=lambda item: item[1])  # stable: exact tokens first, in the keyword's order


def _shape(query: SearchQuery, dialect: str) -> _Shape:
    return _Shape(dialect, tuple(len(t) >= TRIGRAM for t in query.terms), bool(query.category), bool(query.region),
                  query.followers_min is not None, query.followers_max is not None, query.content_type,
                  query.price_min is not None, query.price_max is not None, query.engagement_min_bp is not None,
                  query.audience_gender if query.audience_gender in ("female", "male") else None,
                  bool(query.audience_age), query.verified, query.accepting, query.authenticity_min is not None,
                  query.effective_sort, tuple(prefix for _token, prefix in _index_tokens(query)))


def _prefix_end(prefix: str) -> str:
    """The smallest string after every string that starts with ``prefix`` (in code point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _params(query: SearchQuery, dialect: str) -> dict[str, Any]:
    """The bound values of ``query``'s statements (names as in ``_filtered``)."""
    terms = query.terms
    params: dict[str, Any] = {
        "category": query.category, "region": query.region, "followers_min": query.followers_min,
        "followers_max": query.followers_max, "price_min": query.price_min, "price_max": query.price_max,
        "engagement_min": query.engagement_min_bp, "audience_age": query.audience_age,
        "authenticity_min": query.authenticity_min,
    }
    for i, term in enumerate(terms):
        params[f"term_{i}"] = _contains_pattern(term)
    long_terms, short_tokens = _terms_split(terms)
    for i, (token, prefix) in enumerate(_index_tokens(query)):
        params[f"token_{i}"] = token
        if prefix:
            params[f"token_{i}_end"] = _prefix_end(token)
    if dialect == "postgresql":  # tokens is a tsvector of exactly our tokens
        params["tsquery"] = " & ".join("'" + tok.replace("'", "''") + "'" + (":*" if prefix else "")
                                       for tok, prefix in short_tokens)
    else:
        params["trigram_match"] = " AND ".join(_fts_phrase(t) for t in long_terms)
        params["token_match"] = " AND ".join(_fts_phrase(tok) + ("*" if prefix else "") for tok, prefix in short_tokens)
    if terms:
        whole = " ".join(terms)
        handle = _like_escape(whole.lstrip("@"))
        params.update(exact_name=_like_escape(whole) + "\n%", exact_handle="%\n" + handle,
                      prefix_name=_like_escape(whole) + "%", prefix_handle="%\n" + handle + "%")
    return {name: value for name, value in params.items() if value is not None}


def _bound(name: str):
    return bindparam(name, type_=_PARAM_TYPES.get(name))


_PARAM_TYPES = {name: String() for name in ("tsquery", "trigram_match", "token_match")}
_PARAM_TYPES.update({name: Integer() for name in ("offset", "limit", "count_limit")})


def _relevance(shape: _Shape):
    """0 exact name/handle, 1 name/handle prefix, 2 names contain every term, 3 labels do, 4 bio only."""
    names, labels = CreatorSearch.names, CreatorSearch.labels
    term_patterns = [_bound(f"term_{i}") for i in range(shape.terms)]
    return case(
        (or_(names.like(_bound("exact_name"), escape="\\"), names.like(_bound("exact_handle"), escape="\\")), 0),
        (or_(names.like(_bound("prefix_name"), escape="\\"), names.like(_bound("prefix_handle"), escape="\\")), 1),
        (and_(*[names.like(p, escape="\\") for p in term_patterns]), 2),
        (and_(*[labels.like(p, escape="\\") for p in term_patterns]), 3),
        else_=4,
    )


def _filtered(shape: _Shape) -> tuple[Select, list]:
    """The ids of the matching listed creators (unordered), and the ORDER BY (ties broken by id: a total order).

    Where the filters and sorts read from: ``creators`` (its sort and covering indexes), except for a keyword
    on PostgreSQL, where the GIN indexes hand over ``creator_search`` rows that carry the facets themselves —
    filtering and sorting them there saves fetching every match from ``creators``. SQLite intersects the id
    lists (full-text, category, region) and checks the rest in ``ix_creators_search_filters``.
    """
    dialect = shape.dialect
    tokens = bool(shape.index_tokens)
    # Read the facets (copies of the filter and sort columns) where the keyword's matches are: in the token index,
    # or on PostgreSQL in creator_search; else in creators.
    facets = tokens or (dialect == "postgresql" and shape.terms > 0)
    src: Any = creator_tokens.c if tokens else CreatorSearch if facets else Creator
    key = src.creator_id if facets else Creator.id
    if tokens:  # only listed creators are in the token index
        stmt = select(key.label("id")).where(src.token == _bound("token_0"))
        for i, prefix in enumerate(shape.index_tokens[1:], start=1):
            other = creator_tokens.alias(f"token_{i}")
            match = (and_(other.c.token >= _bound(f"token_{i}"), other.c.token < _bound(f"token_{i}_end"))
                     if prefix else other.c.token == _bound(f"token_{i}"))
            stmt = stmt.where(key.in_(select(other.c.creator_id).where(match)))
    else:
        stmt = select(key.label("id")).where(src.listed == true())
    id_lists = []
    if shape.facet_tokens:
        pass  # the category and region are the index ranges above
    elif shape.category:
        id_lists.append(select(CreatorCategory.creator_id).where(CreatorCategory.category == _bound("category")))
    if shape.region and not shape.facet_tokens:
        id_lists.append(select(CreatorRegion.creator_id).where(CreatorRegion.region == _bound("region")))
    if tokens:
        pass  # the keyword is answered above
    elif facets:  # each term is answered by a GIN index: pg_trgm for long ones, the tsvector for short ones
        stmt = stmt.where(*[CreatorSearch.document.like(_bound(f"term_{i}"), escape="\\")
                            for i, long in enumerate(shape.long_terms) if long])
        if shape.short_terms:
            stmt = stmt.where(CreatorSearch.tokens.op("@@")(
                func.to_tsquery(literal_column("'simple'::regconfig"), _bound("tsquery"))))
    elif shape.terms:  # the FTS5 tables share creator_search's rowid, the creator id
        keyword_ids = []
        if any(shape.long_terms):
            keyword_ids.append((TRIGRAM_FTS, _bound("trigram_match")))
        if shape.short_terms:
            keyword_ids.append((TOKEN_FTS, _bound("token_match")))
        if len(keyword_ids) == 1 and not id_lists:
            # One full-text index and nothing else to intersect: join its matches to creators (each looked up
            # in the covering index) rather than building an IN list of them first.
            fts, match = keyword_ids[0]
            stmt = stmt.join_from(fts, Creator, Creator.id == fts.c.rowid).where(
                literal_column(fts.name).op("MATCH")(match))
            keyword_ids = []
        id_lists = [_fts_match(fts, match) for fts, match in keyword_ids] + id_lists
    if dialect == "sqlite" and len(id_lists) > 1:
        # SQLite probes all but one IN list row by row; intersecting the lists first (each from a covering or
        # full-text index) leaves only the creators that match them all to look up.
        stmt = stmt.where(key.in_(intersect(*id_lists)))
    else:
        stmt = stmt.where(*(key.in_(ids) for ids in id_lists))

    price = getattr(src, f"price_{shape.content_type}")
    if shape.followers_min:
        stmt = stmt.where(src.followers >= _bound("followers_min"))
    if shape.followers_max:
        stmt = stmt.where(src.followers <= _bound("followers_max"))
    if shape.price_min:
        stmt = stmt.where(price >= _bound("price_min"))
    if shape.price_max:
        stmt = stmt.where(price <= _bound("price_max"))
    if shape.engagement_min:
        stmt = stmt.where(src.engagement_bp >= _bound("engagement_min"))
    if shape.audience_gender == "female":
        stmt = stmt.where(src.audience_female_pct >= AUDIENCE_MAJORITY_PCT)
    elif shape.audience_gender == "male":
        stmt = stmt.where(src.audience_female_pct <= 100 - AUDIENCE_MAJORITY_PCT)
    if shape.audience_age:
        stmt = stmt.where(src.audience_main_age == _bound("audience_age"))
    if shape.verified:
        stmt = stmt.where(src.verified == true() if facets else Creator.identity_verified_at.is_not(None))
    if shape.accepting:
        stmt = stmt.where(src.accepting_orders == true())
    if shape.authenticity_min:
        stmt = stmt.where(src.authenticity_score >= _bound("authenticity_min"))

    # The sort keys: (expression, descending?, nulls last? — PostgreSQL only, SQLite's DESC puts them last).
    if shape.sort == "relevance" and tokens:  # the token's rank, computed when the row was written
        return stmt, [(src.rank, False, False), (src.followers, True, False), (key, True, False)]
    if shape.sort == "relevance":
        if not facets:
            stmt = stmt.join(CreatorSearch, CreatorSearch.creator_id == Creator.id)
        return stmt, [(_relevance(shape), False, False), (src.followers, True, False), (key, True, False)]
    if shape.sort == "engagement":
        return stmt, [(src.engagement_bp, True, False), (key, True, False)]
    if shape.sort == "price":  # only creators who quote this content type can be ranked by its price
        return stmt.where(price.is_not(None)), [(price, False, False), (key, False, False)]
    if shape.sort == "rating":
        return stmt, [(src.rating_avg_x100, True, dialect == "postgresql"), (key, True, False)]
    return stmt, [(src.followers, True, False), (key, True, False)]


def _order(keys: list[tuple]) -> list:
    clauses = []
    for expression, descending, nulls_last in keys:
        clause = expression.desc() if descending else expression.asc()
        clauses.append(clause.nulls_last() if nulls_last else clause)
    return clauses


class _Statements:
    """The statements of one query shape: ids in order, the page with its cards, the capped count."""

    def __init__(self, shape: _Shape):
        stmt, keys = _filtered(shape)
        self.ids = stmt.order_by(*_order(keys))
        self.count = select(func.count()).select_from(stmt.limit(_bound("count_limit")).subquery("matching"))
        # The page: the matches' ids with their sort keys, in order, LIMIT/OFFSET — then joined to ``creators``
        # for what the cards show, in the same order again (20 rows).
        keyed = stmt.add_columns(*(expression.label(f"k{i}") for i, (expression, *_) in enumerate(keys)))
        self.counted = bool(shape.terms or shape.category or shape.region)
        if shape.index_tokens:
            # The token index hands over its matches with their facets in (followers, id) order: the page is a
            # range scan that stops after the page by followers (a top-N sort of the matches' index entries by
            # any other key), and the count a second index-only pass over them. Gathering them in a
            # materialized CTE first cost more than the second pass (0.4 of 1.0 ms for 护肤 at 100k creators).
            total = select(func.count()).select_from(stmt.subquery("matching")).scalar_subquery().label("total")
            page = keyed.add_columns(total).order_by(*_order(keys))
        elif self.counted:
            # The matches are a set an index hands over, which must all be sorted anyway: they are gathered once
            # (a materialized CTE, planned as a set: bitmap scans, hash joins), counted, and the page is the top
            # of their sort (a top-N sort). Unmaterialized, PostgreSQL would walk a sort index for the LIMIT.
            matches = keyed.cte("matches").prefix_with("MATERIALIZED")
            total = select(func.count()).select_from(matches).scalar_subquery().label("total")
            page = (select(matches.c.id, *(matches.c[f"k{i}"] for i in range(len(keys))), total)
                    .order_by(*_order([(matches.c[f"k{i}"], *rest) for i, (_e, *rest) in enumerate(keys)])))
        else:
            # No keyword, category or region: walk a sort index and stop after the page; the count (``count``,
            # up to the cap) is a separate statement.
            page = keyed.order_by(*_order(keys))
        page = page.limit(_bound("limit")).offset(_bound("offset")).subquery("page")
        self.page = (select(*_card_columns(shape.content_type), *([page.c.total] if self.counted else []))
                     .join_from(page, Creator, Creator.id == page.c.id)
                     .order_by(*_order([(page.c[f"k{i}"], *rest) for i, (_e, *rest) in enumerate(keys)])))
        # The same page with an enterprise's shortlist marks: each card's lists and, on every row, the choices.
        self.marked_page = self.page.add_columns(*_mark_columns(shape.dialect))


@lru_cache(maxsize=1024)
def _statements(shape: _Shape) -> _Statements:
    return _Statements(shape)


def _card_columns(content_type: str) -> tuple:
    c = Creator
    categories = (select(func.aggregate_strings(CreatorCategory.category, " "))
                  .where(CreatorCategory.creator_id == c.id).scalar_subquery())
    return (c.id, c.display_name, c.handle, c.avatar_file_id, c.followers, c.engagement_bp,
            price_column(content_type).label("price"), c.authenticity_score,
            c.identity_verified_at.is_not(None).label("verified"), c.accepting_orders, categories.label("categories"))


def _mark_columns(dialect: str) -> tuple:
    """An enterprise's (``:enterprise_id``) shortlists as JSON arrays of [id, name, created_at]: those the row's
    creator is on (``on_lists``: by name), and all of them (``shortlists``: newest first; the same on every row).
    PostgreSQL orders them in the aggregate; SQLite (3.40: no ORDER BY in an aggregate) leaves it to ``_marks``."""
    lists, entries = Shortlist.__table__.c, ShortlistEntry.__table__.c
    if dialect == "postgresql":
        def aggregate(*order):
            return select(func.json_agg(aggregate_order_by(
                func.json_build_array(lists.id, lists.name, lists.created_at), *order)))
    else:
        def aggregate(*_order):
            return select(func.json_group_array(func.json_array(lists.id, lists.name, lists.created_at)))
    of_enterprise = lists.enterprise_id == bindparam("enterprise_id", type_=Integer())
    on_lists = (aggregate(lists.name, lists.id)
                .select_from(Shortlist.__table__.join(ShortlistEntry.__table__, entries.shortlist_id == lists.id))
                .where(of_enterprise, entries.creator_id == Creator.id))
    shortlists = aggregate(lists.created_at.desc(), lists.id.desc()).where(of_enterprise)
    return (cast(on_lists.scalar_subquery(), String).label("on_lists"),
            cast(shortlists.scalar_subquery(), String).label("shortlists"))


def _marks(value: str | None, ordered: bool, newest_first: bool = False) -> list[ShortlistMark]:
    """The shortlists of a ``_mark_columns`` value, in order (sorted here unless the database ``ordered`` them:
    SQLite's text order, by bytes, is Python's; its timestamps are text of one format)."""
    marks = json.loads(value) if value else []
    if not ordered:
        marks.sort(key=(lambda m: (m[2], m[0])) if newest_first else (lambda m: (m[1], m[0])), reverse=newest_first)
    return [ShortlistMark(int(id_), name) for id_, name, _created in marks]


def search_statement(query: SearchQuery, dialect: str) -> Select:
    """The ids of the listed creators matching ``query``, in its order (without LIMIT/OFFSET), values bound."""
    return _statements(_shape(query, dialect)).ids.params(_params(query, dialect))


def page_statement(query: SearchQuery, dialect: str, per_page: int = PER_PAGE) -> Select:
    """The statement ``search_creators`` runs for the page of ``query``, values bound."""
    offset = (query.page - 1) * per_page
    return _statements(_shape(query, dialect)).page.params(_params(query, dialect), offset=offset, limit=per_page)


def search_creators(session: Session, query: SearchQuery, per_page: int = PER_PAGE,
                    enterprise_id: int | None = None) -> SearchPage:
    """One page of listed creators matching ``query``, with a total counted up to ``COUNT_CAP``.

    One statement returns the page's cards: with a keyword, category or region (the matches are a set an index
    hands over, sorted whole anyway) it also counts them. Otherwise the page walks a sort index and stops after
    ``per_page`` rows, and the count runs to ``COUNT_CAP + 1`` at most (none on a page that is not full: it is
    the last one). With ``enterprise_id`` the same statement brings that enterprise's shortlist marks
    (``SearchPage.shortlists``/``shortlisted``: what ``shortlist_marks`` answers for the page's creators).
    """
    dialect = session.get_bind().dialect.name
    shape = _shape(query, dialect)
    if dialect == "postgresql":
        # - psycopg prepares a statement run often, and PostgreSQL may then switch to a generic plan that cannot
        #   see the keyword or the bounds (and, e.g., scans the search table): plan each search for its values —
        #   except one token through the token index, whose plan is the same for any token and bounds (a range
        #   of one index): there a generic plan saves planning it again (~0.5 ms, half the statement's time);
        # - the search tables are hot in memory, where fetching an index's few thousand matches is cheap; the
        #   default random_page_cost (4, spinning disks) makes PostgreSQL scan all creators instead;
        # - a page request is one of many at once: no parallel workers for it.
        # One token and no category or region reads one index range and nothing else (the same plan under any
        # settings, checked with EXPLAIN): no settings, no round trip for them.
        # ``SET LOCAL`` needs a transaction: a read session's statements otherwise run in autocommit.
        one_token = len(shape.index_tokens) == 1
        if not one_token:
            hold_transaction(session, _PLAN_SETTINGS)
        elif (shape.category or shape.region) and not shape.facet_tokens:
            hold_transaction(session, _PLAN_SETTINGS_ONE_TOKEN)
    statements = _statements(shape)
    params = _params(query, dialect)
    cap = min(COUNT_CAP, MAX_PAGE * per_page)
    offset = (query.page - 1) * per_page
    # Core execution on the session's connection: the statements select columns, no ORM entities to load, and the
    # ORM's execution path costs ~0.1 ms a statement more. What it would do first: flush pending changes.
    if session.autoflush:
        session.flush()
    connection = session.connection()
    if enterprise_id is None:
        rows = connection.execute(statements.page, {**params, "offset": offset, "limit": per_page}).all()
    else:
        rows = connection.execute(statements.marked_page, {**params, "offset": offset, "limit": per_page,
                                                           "enterprise_id": enterprise_id}).all()
    if statements.counted and rows:
        total = rows[0].total
    elif rows and len(rows) < per_page:
        total = offset + len(rows)  # the last page: nothing to count
    elif not rows and query.page == 1:
        total = 0
    else:  # a full page without a total, or a page past the end: count (up to the cap)
        total = connection.scalar(statements.count, {**params, "count_limit": cap + 1}) or 0
    items = [CreatorCard(id_, name, handle, avatar, followers, engagement, price, score, bool(verified), accepting,
                         tuple(sorted(categories.split())) if categories else ())
             for id_, name, handle, avatar, followers, engagement, price, score, verified, accepting, categories, *_
             in rows]
    result = SearchPage(items=items, page=query.page, per_page=per_page, total=min(total, cap), capped=total > cap,
                        query=query)
    if enterprise_id is not None and rows:
        ordered = dialect == "postgresql"
        result.shortlists = _marks(rows[0].shortlists, ordered, newest_first=True)
        result.shortlisted = {row.id: marks for row in rows if (marks := _marks(row.on_lists, ordered))}
    return result


_PLAN_SETTINGS_ONE_TOKEN = "SET LOCAL random_page_cost = 1.1; SET LOCAL max_parallel_workers_per_gather = 0"
_PLAN_SETTINGS = "SET LOCAL plan_cache_mode = force_custom_plan; " + _PLAN_SETTINGS_ONE_TOKEN


def shortlist_marks(session: Session, enterprise_id: int, creator_ids: list[int]) -> tuple[list, dict[int, list]]:
    """The enterprise's shortlists (newest first: the choices a card offers) and, for each of these creators,
    the shortlists they are on (by name) — ``shortlist_choices`` and ``shortlisted_in`` in one round trip.
    Each shortlist is a row with ``id`` and ``name``."""
    if session.autoflush:
        session.flush()
    rows = session.connection().execute(_shortlist_marks_statement(),
                                        {"enterprise_id": enterprise_id, "ids": creator_ids}).all()
    lists: dict[int, Any] = {}
    on: dict[int, list] = {}
    for row in rows:
        lists.setdefault(row.id, row)
        if row.creator_id is not None:
            on.setdefault(row.creator_id, []).append(row)
    choices = sorted(lists.values(), key=lambda s: (s.created_at, s.id), reverse=True)
    return choices, on


@cache
def _shortlist_marks_statement() -> Select:
    lists, entries = Shortlist.__table__.c, ShortlistEntry.__table__.c
    return (select(lists.id, lists.name, lists.created_at, entries.creator_id)
            .outerjoin(ShortlistEntry.__table__, and_(entries.shortlist_id == lists.id,
                                                      entries.creator_id.in_(bindparam("ids", expanding=True))))
            .where(lists.enterprise_id == bindparam("enterprise_id"))
            .order_by(lists.name, lists.id))
