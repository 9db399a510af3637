"""orders: the board's campaign filter walks (campaign_id, state, updated_at, id) — the campaign's orders of a
state, newest activity first — instead of (campaign_id, state), which left the brand's whole column to sort

Revision ID: 5c2d8e7a41b9
Revises: ae04ee4c99e9
Create Date: 2026-11-28 01:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '5c2d8e7a41b9'
down_revision: str | Sequence[str] | None = 'ae04ee4c99e9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_orders_campaign_id_state_updated_at', 'orders', ['campaign_id', 'state', 'updated_at', 'id'],
                    unique=False)
    op.drop_index('ix_orders_campaign_id_state', table_name='orders')


def downgrade() -> None:
    op.create_index('ix_orders_campaign_id_state', 'orders', ['campaign_id', 'state'], unique=False)
    op.drop_index('ix_orders_campaign_id_state_updated_at', table_name='orders')
