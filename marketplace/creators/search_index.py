"""The creator search index: one search document per creator, kept in sync in the writing transaction.

What it models. ``creator_search`` holds, per creator, the text discovery searches: display name, handle,
bio, and the labels of the creator's categories and regions in English *and* Chinese (so "beauty" and "美妆"
both find a beauty creator whatever language the brand uses). Text is NFKC-normalised and lower-cased once,
here, so queries compare like with like. Two indexes serve it on each backend:

- substring search for terms of three or more characters (any script): SQLite FTS5 with the ``trigram``
  tokenizer (``creator_search_trgm``), PostgreSQL ``pg_trgm`` GIN over ``document``;
- Chinese keywords are often two characters (美妆, 护肤), shorter than a trigram, so ``tokens`` also lists
  every CJK character and CJK bigram of the document (plus each Latin word, for short Latin prefixes).
  SQLite indexes it with FTS5 ``unicode61`` (``creator_search_tokens``); on PostgreSQL the column is a
  ``tsvector`` of exactly these tokens, with a GIN index. A one- or two-character keyword is an exact token lookup: a bigram is
  present exactly when those two characters are adjacent in the text.
- Both also keep ``creator_tokens``: one row per (token, listed creator) carrying the creator's facets and
  the token's relevance rank, ordered by ``(token, followers DESC, creator_id DESC)`` — on PostgreSQL a B-tree
  that INCLUDEs the facets, on SQLite the table itself (WITHOUT ROWID: its primary key is that order). A
  keyword of exact tokens (one or two CJK characters) is then a range scan of one index that filters, counts
  and — by followers — sorts its matches where they lie. Through the full-text indexes every match had to be
  looked up elsewhere for its facets: on PostgreSQL in ``creator_search``'s heap, where a common bigram's few
  thousand matches sit on as many pages (2,399 of 8,251 for 护肤 at 100k creators), on SQLite in a covering
  index of creators, one probe per match. The price: a creator's ~40 token rows are rewritten whenever its
  text or facets change (its statistics refresh), besides the full-text entries.

Invariants:
- every creator has exactly one ``creator_search`` row, equal to ``build_document`` of its current name,
  handle, bio, categories and regions, with its current facets (``facets_of``: the filter and sort columns),
  in the same transaction as the change: the ORM flush hook below
  reindexes creators whose searchable fields, categories or regions changed (code that writes those tables
  with bulk SQL calls ``reindex_creators`` itself, as the bench generator does);
- on SQLite the two FTS5 tables are external-content indexes of ``creator_search``, maintained by its
  triggers (created by the migration), so they can never disagree with it.

Why Python and not database triggers build the document: the labels come from the translation catalogs,
which the database does not have; the per-backend indexes then only copy text, which triggers do well.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    delete,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from marketplace.creators.models import Creator, CreatorCategory, CreatorRegion
from marketplace.creators.taxonomy import CATEGORIES, REGIONS
from marketplace.db import Base


class CreatorSearch(Base):
    """A creator's search document (see the module docstring)."""

    __tablename__ = "creator_search"

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True)
    # Facets: copies of the creator's filter and sort columns (``FACETS``). A keyword query on PostgreSQL then
    # filters and sorts the index's matches in this one table, instead of fetching each match from creators.
    listed: Mapped[bool] = mapped_column(default=False)
    accepting_orders: Mapped[bool] = mapped_column(default=False)
    verified: Mapped[bool] = mapped_column(default=False)
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    engagement_bp: Mapped[int] = mapped_column(default=0)
    audience_female_pct: Mapped[int] = mapped_column(default=0)
    audience_main_age: Mapped[str] = mapped_column(String(8), default="")
    authenticity_score: Mapped[int | None]
    rating_avg_x100: Mapped[int | None]
    price_short_video: Mapped[int | None] = mapped_column(BigInteger)
    price_long_video: Mapped[int | None] = mapped_column(BigInteger)
    price_livestream: Mapped[int | None] = mapped_column(BigInteger)
    price_image_text: Mapped[int | None] = mapped_column(BigInteger)
    # The text (after the facets: on SQLite a row's first columns are read without its overflow pages).
    names: Mapped[str] = mapped_column(Text, default="")  # display name, newline, handle (ranking)
    labels: Mapped[str] = mapped_column(Text, default="")  # category and region labels, both languages (ranking)
    document: Mapped[str] = mapped_column(Text, default="")  # everything searchable (trigram index)
    # CJK unigrams and bigrams, Latin words, space-separated (token index). On PostgreSQL a stored tsvector (the
    # tokens are its lexemes as they are: no parser, no locale), so a match is checked without re-parsing text.
    tokens: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"), default="")


# Sort indexes for discovery: each sort walks an index in order and stops after a page, whatever the table
# size (followers has ``ix_creators_listed_followers`` already).
SORT_INDEXES = (
    # Every filter column, by id: a keyword's (or category's) matching ids are checked against the filters in
    # this narrow index (SQLite: a covering index; PostgreSQL: an index-only scan) instead of the wide rows.
    Index("ix_creators_search_filters", Creator.id, Creator.listed, Creator.accepting_orders, Creator.followers,
          Creator.engagement_bp, Creator.audience_female_pct, Creator.audience_main_age, Creator.authenticity_score,
          Creator.identity_verified_at, Creator.price_short_video, Creator.price_long_video, Creator.price_livestream,
          Creator.price_image_text, Creator.rating_avg_x100),
    # The filters and sorts most searches use, narrow: a keyword's few thousand matches are each looked up by id,
    # and in a third of the width of the index above they cost about half as much (SQLite: fewer pages to walk
    # for the same lookups). The planners take it, being narrower, where it covers the query (SQLite once
    # ANALYZE has given it statistics: on a tiny table without them it may pick a sort index instead).
    Index("ix_creators_common_filters", Creator.id, Creator.listed, Creator.accepting_orders, Creator.followers,
          Creator.engagement_bp),
    Index("ix_creators_listed_engagement_bp", Creator.listed, Creator.engagement_bp),
    Index("ix_creators_listed_price_short_video", Creator.listed, Creator.price_short_video),
    Index("ix_creators_listed_price_long_video", Creator.listed, Creator.price_long_video),
    Index("ix_creators_listed_price_livestream", Creator.listed, Creator.price_livestream),
    Index("ix_creators_listed_price_image_text", Creator.listed, Creator.price_image_text),
)

# Backend-specific objects the migration creates that the models cannot describe (FTS5 virtual tables and
# their shadow tables on SQLite; GIN indexes on PostgreSQL): the schema-drift check leaves them alone.
# The rating sort wants "rating DESC NULLS LAST" (rated creators first, best first): SQLite's plain DESC does
# that, PostgreSQL walks ``ix_creators_rating_sort`` built "NULLS FIRST" backwards, which SQLite cannot declare.
UNMANAGED = ("creator_search_trgm", "creator_search_tokens", "ix_creator_search_document_trgm",
             "ix_creator_search_tokens_gin", "ix_creators_rating_sort", "creator_tokens", "ix_creator_tokens_search",
             "ix_creator_tokens_creator_id")
Base.metadata.info.setdefault("unmanaged_prefixes", set()).update(UNMANAGED)


# --- text ------------------------------------------------------------------------------------------------

CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]+")
WORD = re.compile(r"[^\W_]+")


def normalize(text: str | None) -> str:
    """Fold full-width forms and case, collapse whitespace: the form both documents and queries take."""
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def tokens_of(text: str) -> list[str]:
    """The index tokens of (normalised) ``text``: each CJK character and adjacent pair, each other word."""
    tokens: dict[str, None] = {}
    for run in CJK_RUN.findall(text):
        for i, char in enumerate(run):
            tokens[char] = None
            if i + 1 < len(run):
                tokens[run[i:i + 2]] = None
    for word in WORD.findall(CJK_RUN.sub(" ", text)):
        tokens[word] = None
    return list(tokens)


@cache
def _zh_catalog():
    from babel.support import NullTranslations, Translations

    directory = Path(__file__).resolve().parent.parent / "translations"
    catalog = Translations.load(str(directory), ["zh_CN"], "messages")
    return catalog if isinstance(catalog, Translations) else NullTranslations()


def _both_languages(label) -> str:
    msgid = label._args[0] if getattr(label, "_args", None) else str(label)
    chinese = _zh_catalog().gettext(msgid)
    return msgid if chinese == msgid else f"{msgid} {chinese}"


@cache
def category_terms() -> dict[str, str]:
    return {code: _both_languages(label) for code, label in CATEGORIES.items()}


@cache
def region_terms() -> dict[str, str]:
    return {code: _both_languages(label) for code, label in REGIONS.items()}


def build_document(display_name: str, handle: str | None, bio: str, categories: Iterable[str],
                   regions: Iterable[str]) -> dict[str, str]:
    """The ``creator_search`` columns for a creator with these fields (pure apart from the label catalog)."""
    names = f"{normalize(display_name)}\n{normalize(handle)}"  # one line each: exact/prefix hits rank first
    cat_terms, reg_terms = category_terms(), region_terms()
    labels = normalize(" ".join([*(cat_terms.get(c, c) for c in sorted(categories)),
                                 *(reg_terms.get(r, r) for r in sorted(regions))]))
    document = "\n".join(part for part in (names, labels, normalize(bio)) if part)
    return {"names": names, "labels": labels, "document": document, "tokens": " ".join(tokens_of(document))}


# --- keeping it in sync ----------------------------------------------------------------------------------


# Creator columns copied as they are (``verified`` is derived from identity_verified_at).
FACETS = ("listed", "accepting_orders", "followers", "engagement_bp", "audience_female_pct", "audience_main_age",
          "authenticity_score", "rating_avg_x100", "price_short_video", "price_long_video", "price_livestream",
          "price_image_text")


def facets_of(creator) -> dict:
    """The facet columns of a creator (an ORM object, a row, or anything with its attributes)."""
    values = {name: getattr(creator, name) for name in FACETS}
    values["verified"] = creator.identity_verified_at is not None
    return values


# --- the token index -------------------------------------------------------------------------------------

# Created by the migration with DDL per backend, so it lives outside the models' metadata:
# - PostgreSQL: a heap with primary key (creator_id, token) and the search B-tree
#   ix_creator_tokens_search ON creator_tokens (token, followers DESC, creator_id DESC) INCLUDE (the rest);
#   ``token`` is COLLATE "C": ordered by code point, so a prefix is a range;
# - SQLite: WITHOUT ROWID, primary key (token, followers DESC, creator_id DESC) (BINARY: code point order too),
#   and ix_creator_tokens_creator_id for rewriting a creator's rows.
TOKEN_FACETS = ("accepting_orders", "verified", "engagement_bp", "audience_female_pct", "audience_main_age",
                "authenticity_score", "rating_avg_x100", "price_short_video", "price_long_video", "price_livestream",
                "price_image_text")
creator_tokens = Table(
    "creator_tokens", MetaData(),
    Column("token", Text, primary_key=True),
    Column("creator_id", Integer, primary_key=True),
    Column("followers", BigInteger, nullable=False),
    Column("rank", SmallInteger, nullable=False),  # relevance of a search for exactly this token (``token_rank``)
    Column("accepting_orders", Boolean, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("engagement_bp", Integer, nullable=False),
    Column("audience_female_pct", Integer, nullable=False),
    Column("audience_main_age", String(8), nullable=False),
    Column("authenticity_score", Integer),
    Column("rating_avg_x100", Integer),
    Column("price_short_video", BigInteger),
    Column("price_long_video", BigInteger),
    Column("price_livestream", BigInteger),
    Column("price_image_text", BigInteger),
)


def token_rank(token: str, names: str, labels: str) -> int:
    """The relevance (``search._relevance``) of a search whose whole keyword is ``token``, for a document with
    these ``names`` (display name and handle, one line each) and ``labels``: 0 the name or handle is the token,
    1 one starts with it, 2 the names contain it, 3 the labels do, 4 only the bio."""
    if names.startswith(token + "\n") or names.endswith("\n" + token):
        return 0
    if names.startswith(token) or "\n" + token in names:
        return 1
    if token in names:
        return 2
    return 3 if token in labels else 4


def category_token(code: str) -> str:
    """The token of a category in ``creator_tokens``: no keyword normalises to it (tokens are words and CJK runs)."""
    return "#c:" + code


def region_token(code: str) -> str:
    """The token of a region in ``creator_tokens`` (see ``category_token``)."""
    return "#r:" + code


def token_rows(creator_id: int, document: dict[str, str], facets: dict, categories: Iterable[str] = (),
               regions: Iterable[str] = ()) -> list[dict]:
    """The ``creator_tokens`` rows of a creator with this ``build_document`` and ``facets_of`` (none when it is
    not listed: search only ever shows listed creators): one per keyword token, and one per category and region
    code (``category_token``, ``region_token``: browsing a category is one range of the index, as a keyword is)."""
    if not facets["listed"]:
        return []
    names, labels = document["names"], document["labels"]
    shared = {"creator_id": creator_id, "followers": facets["followers"],
              **{name: facets[name] for name in TOKEN_FACETS}}
    rows = [{"token": token, "rank": token_rank(token, names, labels), **shared}
            for token in document["tokens"].split()]
    codes = dict.fromkeys([*map(category_token, categories), *map(region_token, regions)])
    return rows + [{"token": token, "rank": FACET_RANK, **shared} for token in codes]


FACET_RANK = 5  # a category or region token's rank: never read (relevance needs a keyword)


def reindex_creators(connection: Connection, creator_ids: Iterable[int], chunk: int = 500) -> None:
    """Rebuild the search rows of these creators from the database (rows of deleted creators go)."""
    ids = sorted({i for i in creator_ids if i is not None})
    table = CreatorSearch.__table__
    columns = [Creator.id, Creator.display_name, Creator.handle, Creator.bio, Creator.identity_verified_at,
               *(getattr(Creator, name) for name in FACETS)]
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        creators = connection.execute(select(*columns).where(Creator.id.in_(part))).all()
        categories: dict[int, list[str]] = {}
        for creator_id, code in connection.execute(select(CreatorCategory.creator_id, CreatorCategory.category)
                                                   .where(CreatorCategory.creator_id.in_(part))):
            categories.setdefault(creator_id, []).append(code)
        regions: dict[int, list[str]] = {}
        for creator_id, code in connection.execute(select(CreatorRegion.creator_id, CreatorRegion.region)
                                                   .where(CreatorRegion.creator_id.in_(part))):
            regions.setdefault(creator_id, []).append(code)
        connection.execute(delete(table).where(table.c.creator_id.in_(part)))
        rows, tokens = [], []
        for c in creators:
            facets = facets_of(c)
            document = build_document(c.display_name, c.handle, c.bio or "", categories.get(c.id, ()),
                                      regions.get(c.id, ()))
            rows.append({"creator_id": c.id, **facets, **document})
            tokens += token_rows(c.id, document, facets, categories.get(c.id, ()), regions.get(c.id, ()))
        if rows:
            connection.execute(insert(table), rows)
        connection.execute(delete(creator_tokens).where(creator_tokens.c.creator_id.in_(part)))
        if tokens:
            connection.execute(insert(creator_tokens), tokens)


def reindex_all(connection: Connection) -> int:
    """Rebuild every creator's search row (``flask`` shell, repairs, the migration's backfill)."""
    ids = list(connection.scalars(select(Creator.id)))
    reindex_creators(connection, ids)
    return len(ids)


# Collections too: a category or region removed from the list is deleted as an orphan inside the flush, so it
# never shows in ``session.deleted``; the creator's collection history does.
_SEARCHED_FIELDS = ("display_name", "handle", "bio", "categories", "regions", "identity_verified_at", *FACETS)


def creators_changed_in_flush(session: Session) -> set[int]:
    """Creators whose search document this flush changes (call after the flush: new rows have ids)."""
    ids: set[int] = set()
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, (CreatorCategory, CreatorRegion)):
            ids.add(obj.creator_id)
        elif isinstance(obj, Creator) and obj in session.new:
            ids.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, (CreatorCategory, CreatorRegion)):
            ids.add(obj.creator_id)
        elif isinstance(obj, Creator):
            attrs = inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in _SEARCHED_FIELDS):
                ids.add(obj.id)
    ids.discard(None)
    return ids


@event.listens_for(Session, "after_flush")
def _reindex_after_flush(session: Session, _flush_context) -> None:
    # After the flush the rows are written (the new ones have ids) but the history still shows what changed.
    changed = creators_changed_in_flush(session)
    if changed:
        reindex_creators(session.connection(), changed)
