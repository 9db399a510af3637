"""discovery: creator search index, sort indexes

The ``creator_search`` table (one search document per creator) and its backend-specific indexes, which the
models cannot describe (``marketplace.creators.search_index`` explains the design):

- SQLite: two FTS5 external-content tables over it, ``creator_search_trgm`` (trigram tokenizer: substrings
  of 3+ characters) and ``creator_search_tokens`` (unicode61 over the CJK unigram/bigram tokens: 1–2
  character Chinese keywords), kept in sync by triggers on ``creator_search``;
- PostgreSQL: ``pg_trgm`` GIN over ``document`` (needs a UTF-8 database ctype in which CJK characters are
  letters: C.UTF-8, en_US.UTF-8, zh_CN.UTF-8 — not "C"), and ``tokens`` is a ``tsvector`` with a GIN index.

Plus the sort indexes discovery walks, and a backfill of the creators already there.

Revision ID: 3d319cd84936
Revises: 07b836c82f0d
Create Date: 2026-11-27 19:31:02.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '3d319cd84936'
down_revision: str | Sequence[str] | None = '07b836c82f0d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = """
CREATE VIRTUAL TABLE creator_search_trgm USING fts5(
    document, content='creator_search', content_rowid='creator_id', tokenize='trigram');
CREATE VIRTUAL TABLE creator_search_tokens USING fts5(
    tokens, content='creator_search', content_rowid='creator_id', tokenize='unicode61', detail='none');
CREATE TRIGGER creator_search_fts_insert AFTER INSERT ON creator_search BEGIN
    INSERT INTO creator_search_trgm(rowid, document) VALUES (new.creator_id, new.document);
    INSERT INTO creator_search_tokens(rowid, tokens) VALUES (new.creator_id, new.tokens);
END;
CREATE TRIGGER creator_search_fts_delete AFTER DELETE ON creator_search BEGIN
    INSERT INTO creator_search_trgm(creator_search_trgm, rowid, document) VALUES ('delete', old.creator_id, old.document);
    INSERT INTO creator_search_tokens(creator_search_tokens, rowid, tokens) VALUES ('delete', old.creator_id, old.tokens);
END;
CREATE TRIGGER creator_search_fts_update AFTER UPDATE ON creator_search BEGIN
    INSERT INTO creator_search_trgm(creator_search_trgm, rowid, document) VALUES ('delete', old.creator_id, old.document);
    INSERT INTO creator_search_tokens(creator_search_tokens, rowid, tokens) VALUES ('delete', old.creator_id, old.tokens);
    INSERT INTO creator_search_trgm(rowid, document) VALUES (new.creator_id, new.document);
    INSERT INTO creator_search_tokens(rowid, tokens) VALUES (new.creator_id, new.tokens);
END;
"""

SQLITE_FTS_DROP = """
DROP TRIGGER IF EXISTS creator_search_fts_update;
DROP TRIGGER IF EXISTS creator_search_fts_delete;
DROP TRIGGER IF EXISTS creator_search_fts_insert;
DROP TABLE IF EXISTS creator_search_tokens;
DROP TABLE IF EXISTS creator_search_trgm;
"""

PG_INDEXES = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX ix_creator_search_document_trgm ON creator_search USING gin (document gin_trgm_ops);
CREATE INDEX ix_creator_search_tokens_gin ON creator_search USING gin (tokens);
"""

PG_INDEXES_DROP = """
DROP INDEX IF EXISTS ix_creator_search_tokens_gin;
DROP INDEX IF EXISTS ix_creator_search_document_trgm;
"""


def _statements(script: str) -> list[str]:
    """Split a script on the semicolons that end statements (trigger bodies end with 'END;')."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        inside_trigger = text.upper().startswith("CREATE TRIGGER") and not text.upper().endswith("END;")
        if text.endswith(";") and not inside_trigger:
            statements.append(text)
            current = []
    return statements


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('creator_search',
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('listed', sa.Boolean(), nullable=False),
    sa.Column('accepting_orders', sa.Boolean(), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('followers', sa.BigInteger(), nullable=False),
    sa.Column('engagement_bp', sa.Integer(), nullable=False),
    sa.Column('audience_female_pct', sa.Integer(), nullable=False),
    sa.Column('audience_main_age', sa.String(length=8), nullable=False),
    sa.Column('authenticity_score', sa.Integer(), nullable=True),
    sa.Column('rating_avg_x100', sa.Integer(), nullable=True),
    sa.Column('price_short_video', sa.BigInteger(), nullable=True),
    sa.Column('price_long_video', sa.BigInteger(), nullable=True),
    sa.Column('price_livestream', sa.BigInteger(), nullable=True),
    sa.Column('price_image_text', sa.BigInteger(), nullable=True),
    sa.Column('names', sa.Text(), nullable=False),
    sa.Column('labels', sa.Text(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('tokens', sa.Text().with_variant(postgresql.TSVECTOR(), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_creator_search_creator_id_creators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('creator_id', name=op.f('pk_creator_search'))
    )
    with op.batch_alter_table('creators', schema=None) as batch_op:
        batch_op.create_index('ix_creators_search_filters', ['id', 'listed', 'accepting_orders', 'followers', 'engagement_bp', 'audience_female_pct', 'audience_main_age', 'authenticity_score', 'identity_verified_at', 'price_short_video', 'price_long_video', 'price_livestream', 'price_image_text', 'rating_avg_x100'], unique=False)
        batch_op.create_index('ix_creators_listed_engagement_bp', ['listed', 'engagement_bp'], unique=False)
        batch_op.create_index('ix_creators_listed_price_image_text', ['listed', 'price_image_text'], unique=False)
        batch_op.create_index('ix_creators_listed_price_livestream', ['listed', 'price_livestream'], unique=False)
        batch_op.create_index('ix_creators_listed_price_long_video', ['listed', 'price_long_video'], unique=False)
        batch_op.create_index('ix_creators_listed_price_short_video', ['listed', 'price_short_video'], unique=False)
    if dialect == "postgresql":
        # Backward scan of "NULLS FIRST" is "rating DESC NULLS LAST": rated creators first, best first.
        op.execute("CREATE INDEX ix_creators_rating_sort ON creators (listed, rating_avg_x100 NULLS FIRST)")
        for statement in _statements(PG_INDEXES):
            op.execute(statement)
    else:
        op.execute("CREATE INDEX ix_creators_rating_sort ON creators (listed, rating_avg_x100)")
        for statement in _statements(SQLITE_FTS):
            op.execute(statement)

    _backfill(op.get_bind())


def _backfill(connection) -> None:
    """Index the creators already there (tables as of this revision; the document builder is pure)."""
    from marketplace.creators.search_index import build_document

    facets = ("listed", "accepting_orders", "followers", "engagement_bp", "audience_female_pct", "audience_main_age",
              "authenticity_score", "rating_avg_x100", "price_short_video", "price_long_video", "price_livestream",
              "price_image_text")
    creators = sa.table("creators", *(sa.column(name) for name in ("id", "display_name", "handle", "bio",
                                                                     "identity_verified_at", *facets)))
    categories = sa.table("creator_categories", sa.column("creator_id"), sa.column("category"))
    regions = sa.table("creator_regions", sa.column("creator_id"), sa.column("region"))
    search = sa.table("creator_search", sa.column("creator_id"), sa.column("verified"),
                      *(sa.column(name) for name in (*facets, "names", "labels", "document")),
                      sa.column("tokens", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql")))
    cats: dict[int, list[str]] = {}
    for creator_id, code in connection.execute(sa.select(categories.c.creator_id, categories.c.category)):
        cats.setdefault(creator_id, []).append(code)
    regs: dict[int, list[str]] = {}
    for creator_id, code in connection.execute(sa.select(regions.c.creator_id, regions.c.region)):
        regs.setdefault(creator_id, []).append(code)
    rows = [{"creator_id": c.id, "verified": c.identity_verified_at is not None,
             **{name: getattr(c, name) for name in facets},
             **build_document(c.display_name, c.handle, c.bio or "", cats.get(c.id, ()), regs.get(c.id, ()))}
            for c in connection.execute(sa.select(creators))]
    if rows:
        connection.execute(search.insert(), rows)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for statement in _statements(PG_INDEXES_DROP):
            op.execute(statement)
    else:
        for statement in _statements(SQLITE_FTS_DROP):
            op.execute(statement)
    op.execute("DROP INDEX IF EXISTS ix_creators_rating_sort")
    with op.batch_alter_table('creators', schema=None) as batch_op:
        batch_op.drop_index('ix_creators_listed_price_short_video')
        batch_op.drop_index('ix_creators_listed_price_long_video')
        batch_op.drop_index('ix_creators_listed_price_livestream')
        batch_op.drop_index('ix_creators_listed_price_image_text')
        batch_op.drop_index('ix_creators_listed_engagement_bp')
        batch_op.drop_index('ix_creators_search_filters')

    op.drop_table('creator_search')
