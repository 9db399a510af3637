"""Discovery search: what a brand asked for (``SearchQuery``) and the page of creators that answers it.

Invariants:
- only ``listed`` creators are ever returned;
- the keyword never scans: each term is an index lookup in the search index (``search_index``): terms of
  three or more characters through the trigram index, shorter ones through the CJK-bigram/word token index;
  several terms must all match;
- without a keyword, category or region, a page walks a sort index of ``creators`` and stops after the page,
  and the total is counted only up to ``COUNT_CAP`` (shown as "10,000+"): the cost does not grow with the
  table. With them, the cost follows the creators the indexes hand over (the keyword's matches, intersected
  with the category's and region's lists on SQLite), which are all sorted in one pass that also counts them
  (up to the cap); on PostgreSQL a keyword's matches are filtered and sorted in ``creator_search`` itself,
  which carries the filter columns (facets);
- relevance ranks exact name/handle hits first, then name/handle prefixes, then names containing every term,
  then category/region labels, then bio-only matches; ties go to the bigger audience.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    case,
    column,
    func,
    intersect,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.orm import Session

from marketplace.creators.models import Creator, CreatorCategory, CreatorRegion
from marketplace.creators.search_index import CJK_RUN, CreatorSearch, normalize, tokens_of
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
        def blank(value):
            return value or None

        return cls(
            q=(form.q.data or "").strip(), category=blank(form.category.data), region=blank(form.region.data),
            followers_min=form.followers_min.data, followers_max=form.followers_max.data,
            content_type=form.content_type.data or "short_video", price_min=form.price_min.minor,
            price_max=form.price_max.minor, engagement_min_bp=form.engagement_min.basis_points,
            audience_gender=blank(form.audience_gender.data), audience_age=blank(form.audience_age.data),
            verified=bool(form.verified.data), accepting=bool(form.accepting.data),
            authenticity_min=form.authenticity_min.data, sort=form.sort.data or "relevance",
            page=parse_page(page),
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


@dataclass
class SearchPage(Page):
    """A page of results; ``capped`` when there are more than ``COUNT_CAP`` (then ``total`` is the cap)."""

    items: list[CreatorCard]
    page: int
    per_page: int
    total: int
    capped: bool = False
    query: SearchQuery = field(default_factory=SearchQuery)


# --- the statement ---------------------------------------------------------------------------------------


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(expression, value: str):
    return expression.like(f"%{_like_escape(value)}%", escape="\\")


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


def _keyword_conditions(terms: tuple[str, ...]) -> list:
    """PostgreSQL: predicates on ``creator_search`` that every term matches, each answered by a GIN index."""
    long_terms, short_tokens = _terms_split(terms)
    conditions = [_contains(CreatorSearch.document, t) for t in long_terms]  # pg_trgm
    if short_tokens:  # tokens is a tsvector of exactly our tokens
        query = " & ".join("'" + tok.replace("'", "''") + "'" + (":*" if prefix else "") for tok, prefix in short_tokens)
        conditions.append(CreatorSearch.tokens.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), query)))
    return conditions


def _keyword_ids(terms: tuple[str, ...]) -> list[Select]:
    """SQLite: SELECTs of the creator ids matching the terms, from the FTS5 tables (all must match; they share
    creator_search's rowid, the creator id)."""
    long_terms, short_tokens = _terms_split(terms)
    selects = []
    if long_terms:
        selects.append(_fts_match(TRIGRAM_FTS, " AND ".join(_fts_phrase(t) for t in long_terms)))
    if short_tokens:
        selects.append(_fts_match(TOKEN_FTS, " AND ".join(_fts_phrase(tok) + ("*" if prefix else "")
                                                          for tok, prefix in short_tokens)))
    return selects


TRIGRAM_FTS = table("creator_search_trgm", column("rowid"))
TOKEN_FTS = table("creator_search_tokens", column("rowid"))


def _fts_match(fts, match: str) -> Select:
    return select(fts.c.rowid).where(literal_column(fts.name).op("MATCH")(match))


def _category_region_ids(query: SearchQuery) -> list[Select]:
    selects = []
    if query.category:
        selects.append(select(CreatorCategory.creator_id).where(CreatorCategory.category == query.category))
    if query.region:
        selects.append(select(CreatorRegion.creator_id).where(CreatorRegion.region == query.region))
    return selects


def _relevance(query: SearchQuery):
    """0 exact name/handle, 1 name/handle prefix, 2 names contain every term, 3 labels do, 4 bio only."""
    whole = " ".join(query.terms)
    handle = whole.lstrip("@")
    names, labels = CreatorSearch.names, CreatorSearch.labels
    return case(
        (or_(names.like(_like_escape(whole) + "\n%", escape="\\"),
             names.like("%\n" + _like_escape(handle), escape="\\")), 0),
        (or_(names.like(_like_escape(whole) + "%", escape="\\"),
             names.like("%\n" + _like_escape(handle) + "%", escape="\\")), 1),
        (and_(*[_contains(names, t) for t in query.terms]), 2),
        (and_(*[_contains(labels, t) for t in query.terms]), 3),
        else_=4,
    )


def price_column(content_type: str):
    return getattr(Creator, f"price_{content_type}")


def search_statement(query: SearchQuery, dialect: str) -> Select:
    """The ids of the listed creators matching ``query``, in its order (without LIMIT/OFFSET).

    Where the filters and sorts read from: ``creators`` (its sort and covering indexes), except for a keyword
    on PostgreSQL, where the GIN indexes hand over ``creator_search`` rows that carry the facets themselves —
    filtering and sorting them there saves fetching every match from ``creators``. SQLite intersects the id
    lists (full-text, category, region) and checks the rest in ``ix_creators_search_filters``.
    """
    facets = dialect == "postgresql" and bool(query.terms)
    src = CreatorSearch if facets else Creator
    key = CreatorSearch.creator_id if facets else Creator.id
    stmt = select(key).where(src.listed == true())
    id_lists = _category_region_ids(query)
    if facets:
        stmt = stmt.where(*_keyword_conditions(query.terms))
    elif query.terms:
        id_lists = _keyword_ids(query.terms) + id_lists
    if dialect == "sqlite" and len(id_lists) > 1:
        # SQLite probes all but one IN list row by row; intersecting the lists first (each from a covering or
        # full-text index) leaves only the creators that match them all to look up.
        stmt = stmt.where(key.in_(intersect(*id_lists)))
    else:
        stmt = stmt.where(*(key.in_(ids) for ids in id_lists))

    price = getattr(src, f"price_{query.content_type}")
    if query.followers_min is not None:
        stmt = stmt.where(src.followers >= query.followers_min)
    if query.followers_max is not None:
        stmt = stmt.where(src.followers <= query.followers_max)
    if query.price_min is not None:
        stmt = stmt.where(price >= query.price_min)
    if query.price_max is not None:
        stmt = stmt.where(price <= query.price_max)
    if query.engagement_min_bp is not None:
        stmt = stmt.where(src.engagement_bp >= query.engagement_min_bp)
    if query.audience_gender == "female":
        stmt = stmt.where(src.audience_female_pct >= AUDIENCE_MAJORITY_PCT)
    elif query.audience_gender == "male":
        stmt = stmt.where(src.audience_female_pct <= 100 - AUDIENCE_MAJORITY_PCT)
    if query.audience_age:
        stmt = stmt.where(src.audience_main_age == query.audience_age)
    if query.verified:
        stmt = stmt.where(CreatorSearch.verified == true() if facets else Creator.identity_verified_at.is_not(None))
    if query.accepting:
        stmt = stmt.where(src.accepting_orders == true())
    if query.authenticity_min is not None:
        stmt = stmt.where(src.authenticity_score >= query.authenticity_min)

    sort = query.effective_sort
    if sort == "relevance":
        if not facets:
            stmt = stmt.join(CreatorSearch, CreatorSearch.creator_id == Creator.id)
        return stmt.order_by(_relevance(query), src.followers.desc(), key.desc())
    if sort == "engagement":
        return stmt.order_by(src.engagement_bp.desc(), key.desc())
    if sort == "price":  # only creators who quote this content type can be ranked by its price
        return stmt.where(price.is_not(None)).order_by(price.asc(), key.asc())
    if sort == "rating":
        rating = src.rating_avg_x100.desc()
        return stmt.order_by(rating.nulls_last() if dialect == "postgresql" else rating, key.desc())
    return stmt.order_by(src.followers.desc(), key.desc())


def search_creators(session: Session, query: SearchQuery, per_page: int = PER_PAGE) -> SearchPage:
    """One page of listed creators matching ``query``, with a total counted up to ``COUNT_CAP``.

    With a keyword, category or region the matches are a set an index hands over, which must all be sorted
    anyway: one pass takes their ids in order (at most ``COUNT_CAP + 1``: the count and the page's slice).
    Without, the page walks a sort index and stops after ``per_page`` rows, and the count at ``COUNT_CAP + 1``.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # - psycopg prepares a statement run often, and PostgreSQL may then switch to a generic plan that cannot
        #   see the keyword or the bounds (and, e.g., scans the search table): plan each search for its values;
        # - the search tables are hot in memory, where fetching an index's few thousand matches is cheap; the
        #   default random_page_cost (4, spinning disks) makes PostgreSQL scan all creators instead;
        # - a page request is one of many at once: no parallel workers for it.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL random_page_cost = 1.1; "
                             "SET LOCAL max_parallel_workers_per_gather = 0"))
    stmt = search_statement(query, dialect)
    cap = min(COUNT_CAP, MAX_PAGE * per_page)
    offset = (query.page - 1) * per_page
    if query.terms or query.category or query.region:
        ids = list(session.scalars(stmt.limit(cap + 1)))
        page_ids, total = ids[offset:offset + per_page], len(ids)
    else:
        page_ids = list(session.scalars(stmt.limit(per_page).offset(offset)))
        if page_ids and len(page_ids) < per_page:
            total = offset + len(page_ids)  # the last page: nothing to count
        else:
            matching = stmt.order_by(None).limit(cap + 1).subquery()
            total = session.scalar(select(func.count()).select_from(matching)) or 0
    cards = _cards(session, page_ids, query.content_type)
    return SearchPage(items=[cards[i] for i in page_ids if i in cards], page=query.page, per_page=per_page,
                      total=min(total, cap), capped=total > cap, query=query)


def _cards(session: Session, ids: list[int], content_type: str) -> dict[int, CreatorCard]:
    if not ids:
        return {}
    c = Creator
    categories: dict[int, list[str]] = {}
    for creator_id, code in session.execute(select(CreatorCategory.creator_id, CreatorCategory.category)
                                            .where(CreatorCategory.creator_id.in_(ids))
                                            .order_by(CreatorCategory.creator_id, CreatorCategory.category)):
        categories.setdefault(creator_id, []).append(code)
    rows = session.execute(select(c.id, c.display_name, c.handle, c.avatar_file_id, c.followers, c.engagement_bp,
                                  price_column(content_type), c.authenticity_score, c.identity_verified_at,
                                  c.accepting_orders).where(c.id.in_(ids)))
    return {row[0]: CreatorCard(*row[:8], row[8] is not None, row[9], tuple(categories.get(row[0], ())))
            for row in rows}
