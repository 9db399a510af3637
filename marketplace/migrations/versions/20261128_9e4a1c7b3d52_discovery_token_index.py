"""discovery: PostgreSQL's token index with facets (``creator_tokens``)

One row per (token, listed creator) with the creator's filter and sort columns and the token's relevance rank,
under a B-tree ``(token, followers DESC, creator_id DESC) INCLUDE (…)``: a one- or two-character keyword is an
index-only range scan that filters, counts and sorts its matches (``marketplace.creators.search_index``
explains why). PostgreSQL only; nothing on SQLite. Backfilled from ``creator_search``.

Revision ID: 9e4a1c7b3d52
Revises: 128c2ceacc03
Create Date: 2026-11-28 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9e4a1c7b3d52'
down_revision: str | Sequence[str] | None = '128c2ceacc03'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = """CREATE TABLE creator_tokens (
    token text COLLATE "C" NOT NULL,
    creator_id integer NOT NULL,
    followers bigint NOT NULL,
    rank smallint NOT NULL,
    accepting_orders boolean NOT NULL,
    verified boolean NOT NULL,
    engagement_bp integer NOT NULL,
    audience_female_pct integer NOT NULL,
    audience_main_age varchar(8) NOT NULL,
    authenticity_score integer,
    rating_avg_x100 integer,
    price_short_video bigint,
    price_long_video bigint,
    price_livestream bigint,
    price_image_text bigint
)"""

# After the backfill: building them over the rows is several times faster than keeping them up row by row.
CONSTRAINTS = [
    "ALTER TABLE creator_tokens ADD CONSTRAINT pk_creator_tokens PRIMARY KEY (creator_id, token)",
    """ALTER TABLE creator_tokens ADD CONSTRAINT fk_creator_tokens_creator_id_creators FOREIGN KEY (creator_id)
        REFERENCES creators (id) ON DELETE CASCADE""",
    """CREATE INDEX ix_creator_tokens_search ON creator_tokens (token, followers DESC, creator_id DESC)
        INCLUDE (rank, accepting_orders, verified, engagement_bp, audience_female_pct, audience_main_age,
                 authenticity_score, rating_avg_x100, price_short_video, price_long_video, price_livestream,
                 price_image_text)""",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(TABLE)
    _backfill(op.get_bind())
    for statement in CONSTRAINTS:
        op.execute(statement)


def _backfill(connection) -> None:
    """Token rows of the creators already indexed (the row builders are pure), written with COPY."""
    from marketplace.creators.search_index import TOKEN_FACETS, creator_tokens, token_rows, tokens_of

    columns = ("creator_id", "listed", "followers", "names", "labels", "document", *TOKEN_FACETS)
    search = sa.table("creator_search", *(sa.column(name) for name in columns))
    names = [column.name for column in creator_tokens.columns]
    rows = connection.execute(sa.select(search).where(search.c.listed.is_(True))).mappings().all()
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY creator_tokens ({', '.join(names)}) FROM STDIN") as copy:
        for values in rows:
            document = {"names": values["names"], "labels": values["labels"],
                        "tokens": " ".join(tokens_of(values["document"]))}
            for row in token_rows(values["creator_id"], document, values):
                copy.write_row([row[name] for name in names])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS creator_tokens")
