"""orders: live_checked_at, the live-work check's own clock (it no longer touches updated_at, which orders the
board by real activity)

Revision ID: ae04ee4c99e9
Revises: f0e3957c3fb3
Create Date: 2026-11-27 23:27:59.600136
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = 'ae04ee4c99e9'
down_revision: str | Sequence[str] | None = 'f0e3957c3fb3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_checked_at', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_orders_state_live_checked_at', ['state', 'live_checked_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_state_live_checked_at')
        batch_op.drop_column('live_checked_at')

