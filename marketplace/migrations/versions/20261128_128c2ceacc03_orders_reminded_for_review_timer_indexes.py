"""orders: the deadline each reminder was sent for (offer_reminded_for, confirm_reminded_for, review_reminded_for),
so the reminder timers select only the orders not yet reminded of their deadline; an index on (state,
review_until) for the review window's reminder, and a partial index on the hidden reviews for the timer that
reveals them

The columns start empty: an order reminded before this migration is picked up once more by its timer, its
notification's dedupe key (unchanged for an order's first reminder) stops a second one, and the column is set.

Revision ID: 128c2ceacc03
Revises: 7b1e4c9d2f63
Create Date: 2026-11-28 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = '128c2ceacc03'
down_revision: str | Sequence[str] | None = '7b1e4c9d2f63'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offer_reminded_for', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirm_reminded_for', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('review_reminded_for', marketplace.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_orders_state_review_until', ['state', 'review_until'], unique=False)
    op.create_index('ix_order_reviews_order_id_hidden', 'order_reviews', ['order_id'], unique=False,
                    sqlite_where=sa.text('visible = 0'), postgresql_where=sa.text('NOT visible'))


def downgrade() -> None:
    op.drop_index('ix_order_reviews_order_id_hidden', table_name='order_reviews',
                  sqlite_where=sa.text('visible = 0'), postgresql_where=sa.text('NOT visible'))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_state_review_until')
        batch_op.drop_column('review_reminded_for')
        batch_op.drop_column('confirm_reminded_for')
        batch_op.drop_column('offer_reminded_for')
