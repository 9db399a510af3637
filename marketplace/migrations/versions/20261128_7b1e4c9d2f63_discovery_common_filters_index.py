"""discovery: a narrow covering index for the filters and sorts most searches use (id, listed, accepting orders,
followers, engagement), beside the wide one that covers every filter

Revision ID: 7b1e4c9d2f63
Revises: 15252ea4a60f
Create Date: 2026-11-28 01:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '7b1e4c9d2f63'
down_revision: str | Sequence[str] | None = '15252ea4a60f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_creators_common_filters', 'creators',
                    ['id', 'listed', 'accepting_orders', 'followers', 'engagement_bp'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_creators_common_filters', table_name='creators')
