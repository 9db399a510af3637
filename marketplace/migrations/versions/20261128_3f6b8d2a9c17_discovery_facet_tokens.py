"""discovery: category and region tokens in the token index

Each listed creator gets a ``creator_tokens`` row per category (``#c:<code>``) and per region (``#r:<code>``),
with the same facets as its keyword tokens, so browsing a category (with or without a region, no keyword) is one
range of the token index, as a short keyword is (``marketplace.creators.search_index.category_token``). No
keyword normalises to these tokens. Backfilled from the creators' categories and regions, the facets copied from
one of the creator's keyword rows.

Revision ID: 3f6b8d2a9c17
Revises: 9e4a1c7b3d52
Create Date: 2026-11-28 10:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '3f6b8d2a9c17'
down_revision: str | Sequence[str] | None = '9e4a1c7b3d52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACETS = ("accepting_orders", "verified", "engagement_bp", "audience_female_pct", "audience_main_age",
          "authenticity_score", "rating_avg_x100", "price_short_video", "price_long_video", "price_livestream",
          "price_image_text")
FACET_RANK = 5  # search_index.FACET_RANK: never read (relevance needs a keyword)


def _backfill(prefix: str, table: str, code: str) -> str:
    facets = ", ".join(FACETS)
    copied = ", ".join(f"t.{name}" for name in FACETS)
    return (f"INSERT INTO creator_tokens (token, creator_id, followers, rank, {facets}) "
            f"SELECT '{prefix}' || x.{code}, t.creator_id, t.followers, {FACET_RANK}, {copied} "
            f"FROM {table} x JOIN creator_tokens t ON t.creator_id = x.creator_id "
            f"AND t.token = (SELECT min(t2.token) FROM creator_tokens t2 WHERE t2.creator_id = x.creator_id)")


def upgrade() -> None:
    op.execute(_backfill("#c:", "creator_categories", "category"))
    op.execute(_backfill("#r:", "creator_regions", "region"))


def downgrade() -> None:
    op.execute("DELETE FROM creator_tokens WHERE substr(token, 1, 1) = '#'")
