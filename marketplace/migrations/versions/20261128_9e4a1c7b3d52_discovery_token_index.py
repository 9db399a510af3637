"""discovery: the token index with facets (``creator_tokens``)

One row per (token, listed creator) with the creator's filter and sort columns and the token's relevance rank,
in ``(token, followers DESC, creator_id DESC)`` order — PostgreSQL: a B-tree that INCLUDEs the rest; SQLite: a
WITHOUT ROWID table with that primary key — so a keyword of one- or two-character tokens is a range scan of one
index that filters, counts and sorts its matches (``marketplace.creators.search_index`` explains why).
Backfilled from ``creator_search``.

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


SQLITE = [
    """CREATE TABLE creator_tokens (
        token TEXT NOT NULL,
        creator_id INTEGER NOT NULL REFERENCES creators (id) ON DELETE CASCADE,
        followers BIGINT NOT NULL,
        rank SMALLINT NOT NULL,
        accepting_orders BOOLEAN NOT NULL,
        verified BOOLEAN NOT NULL,
        engagement_bp INTEGER NOT NULL,
        audience_female_pct INTEGER NOT NULL,
        audience_main_age VARCHAR(8) NOT NULL,
        authenticity_score INTEGER,
        rating_avg_x100 INTEGER,
        price_short_video BIGINT,
        price_long_video BIGINT,
        price_livestream BIGINT,
        price_image_text BIGINT,
        PRIMARY KEY (token, followers DESC, creator_id DESC)
    ) WITHOUT ROWID""",
    "CREATE INDEX ix_creator_tokens_creator_id ON creator_tokens (creator_id)",
]


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.execute(TABLE)
        _backfill(connection)
        for statement in CONSTRAINTS:
            op.execute(statement)
    else:
        for statement in SQLITE:
            op.execute(statement)
        _backfill(connection)


def _backfill(connection) -> None:
    """Token rows of the creators already indexed (the row builders are pure); COPY on PostgreSQL."""
    from marketplace.creators.search_index import TOKEN_FACETS, creator_tokens, token_rows, tokens_of

    columns = ("creator_id", "listed", "followers", "names", "labels", "document", *TOKEN_FACETS)
    search = sa.table("creator_search", *(sa.column(name) for name in columns))
    names = [column.name for column in creator_tokens.columns]

    listed = connection.execute(sa.select(search).where(search.c.listed.is_(True))).mappings().all()

    def rows():  # not a statement of its own: on PostgreSQL they are written while the COPY holds the connection
        for values in listed:
            document = {"names": values["names"], "labels": values["labels"],
                        "tokens": " ".join(tokens_of(values["document"]))}
            yield from token_rows(values["creator_id"], document, values)

    if connection.dialect.name != "postgresql":
        batch = list(rows())
        if batch:
            connection.execute(creator_tokens.insert(), batch)
        return
    cursor = connection.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY creator_tokens ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows():
            copy.write_row([row[name] for name in names])


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_creator_tokens_creator_id")
    op.execute("DROP TABLE IF EXISTS creator_tokens")
