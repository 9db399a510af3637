"""orders: campaigns, jobs, applications, orders and their events, drafts, disputes, live reports, messages,
notifications, reviews

Revision ID: f0e3957c3fb3
Revises: 3d319cd84936
Create Date: 2026-11-27 21:34:21.150491
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import marketplace.db

revision: str = 'f0e3957c3fb3'
down_revision: str | Sequence[str] | None = '3d319cd84936'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('read_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('user_id', 'dedupe_key', name=op.f('uq_notifications_user_id_dedupe_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_id_id', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_notifications_user_id_read_at', ['user_id', 'read_at'], unique=False)

    op.create_table('thread_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('thread_type', sa.String(length=12), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('last_read_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_thread_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'thread_type', 'thread_id', name=op.f('pk_thread_reads'))
    )
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_type', sa.String(length=12), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('sender_side', sa.String(length=8), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("thread_type IN ('order', 'application')", name=op.f('ck_messages_thread_type_valid')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_messages_file_id_stored_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_messages_sender_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_thread_type_thread_id_id', ['thread_type', 'thread_id', 'id'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('goal', sa.Text(), nullable=False),
    sa.Column('budget', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_campaigns_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_campaigns_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index('ix_campaigns_enterprise_id_created_at', ['enterprise_id', 'created_at'], unique=False)

    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('brief', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('deliverables', sa.Text(), nullable=False),
    sa.Column('budget', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('slots', sa.Integer(), nullable=False),
    sa.Column('slots_filled', sa.Integer(), nullable=False),
    sa.Column('application_deadline', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('publish_from', sa.Date(), nullable=False),
    sa.Column('publish_until', sa.Date(), nullable=False),
    sa.Column('criteria_categories', sa.JSON(), nullable=False),
    sa.Column('criteria_regions', sa.JSON(), nullable=False),
    sa.Column('criteria_min_followers', sa.BigInteger(), nullable=True),
    sa.Column('criteria_max_followers', sa.BigInteger(), nullable=True),
    sa.Column('usage_rights_days', sa.Integer(), nullable=False),
    sa.Column('live_days', sa.Integer(), nullable=False),
    sa.Column('revision_rounds', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('application_count', sa.Integer(), nullable=False),
    sa.Column('submitted_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opened_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("content_type IN ('short_video', 'long_video', 'livestream', 'image_text')", name=op.f('ck_jobs_content_type_valid')),
    sa.CheckConstraint("state IN ('draft', 'in_review', 'open', 'closed', 'cancelled', 'rejected')", name=op.f('ck_jobs_state_valid')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_jobs_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_jobs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_jobs_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_jobs_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index('ix_jobs_enterprise_id_state_created_at', ['enterprise_id', 'state', 'created_at'], unique=False)
        batch_op.create_index('ix_jobs_state_application_deadline', ['state', 'application_deadline'], unique=False)
        batch_op.create_index('ix_jobs_state_submitted_at', ['state', 'submitted_at'], unique=False)

    op.create_table('job_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_job_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_events_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_events'))
    )
    with op.batch_alter_table('job_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_events_job_id'), ['job_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('origin', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('brief', sa.Text(), nullable=False),
    sa.Column('content_type', sa.String(length=20), nullable=False),
    sa.Column('deliverables', sa.Text(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('service_fee', sa.BigInteger(), nullable=False),
    sa.Column('commission', sa.BigInteger(), nullable=False),
    sa.Column('retention', sa.BigInteger(), nullable=False),
    sa.Column('service_fee_bp', sa.Integer(), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('retention_bp', sa.Integer(), nullable=False),
    sa.Column('rate_card_version_id', sa.Integer(), nullable=True),
    sa.Column('revision_rounds', sa.Integer(), nullable=False),
    sa.Column('revisions_used', sa.Integer(), nullable=False),
    sa.Column('live_days', sa.Integer(), nullable=False),
    sa.Column('usage_rights_days', sa.Integer(), nullable=False),
    sa.Column('publish_from', sa.Date(), nullable=True),
    sa.Column('publish_until', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('offer_expires_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('auto_confirm_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('live_until', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_until', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('work_url', sa.String(length=300), nullable=False),
    sa.Column('work_external_id', sa.String(length=64), nullable=True),
    sa.Column('disputed_from', sa.String(length=20), nullable=True),
    sa.Column('cancel_requested_by', sa.String(length=8), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('paid_to_creator', sa.BigInteger(), nullable=False),
    sa.Column('refunded_to_brand', sa.BigInteger(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("content_type IN ('short_video', 'long_video', 'livestream', 'image_text')", name=op.f('ck_orders_content_type_valid')),
    sa.CheckConstraint("origin IN ('offer', 'job')", name=op.f('ck_orders_origin_valid')),
    sa.CheckConstraint("state IN ('offered', 'declined', 'expired', 'withdrawn', 'in_progress', 'draft_submitted', 'revision_requested', 'draft_approved', 'published', 'completed', 'closed', 'disputed', 'resolved', 'cancelled')", name=op.f('ck_orders_state_valid')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_orders_campaign_id_campaigns'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_orders_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_orders_creator_id_creators'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_orders_enterprise_id_enterprises'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_orders_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['rate_card_version_id'], ['rate_card_versions.id'], name=op.f('fk_orders_rate_card_version_id_rate_card_versions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_campaign_id_state', ['campaign_id', 'state'], unique=False)
        batch_op.create_index('ix_orders_creator_id_state_updated_at', ['creator_id', 'state', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_creator_id_updated_at', ['creator_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_enterprise_id_state_updated_at', ['enterprise_id', 'state', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_enterprise_id_updated_at', ['enterprise_id', 'updated_at', 'id'], unique=False)
        batch_op.create_index('ix_orders_job_id', ['job_id'], unique=False)
        batch_op.create_index('ix_orders_state_auto_confirm_at', ['state', 'auto_confirm_at'], unique=False)
        batch_op.create_index('ix_orders_state_live_until', ['state', 'live_until'], unique=False)
        batch_op.create_index('ix_orders_state_offer_expires_at', ['state', 'offer_expires_at'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('quote', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pitch', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("state IN ('submitted', 'shortlisted', 'accepted', 'rejected', 'withdrawn')", name=op.f('ck_applications_state_valid')),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_applications_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_applications_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_applications_job_id_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name='fk_applications_order_id_orders', ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('job_id', 'creator_id', name=op.f('uq_applications_job_id_creator_id'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_creator_id_created_at', ['creator_id', 'created_at'], unique=False)
        batch_op.create_index('ix_applications_job_id_state_created_at', ['job_id', 'state', 'created_at'], unique=False)

    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_side', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=True),
    sa.Column('to_creator', sa.BigInteger(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('open', 'resolved')", name=op.f('ck_disputes_state_valid')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_disputes_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_disputes_opened_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_disputes_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_disputes_state_created_at', ['state', 'created_at'], unique=False)

    op.create_table('live_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('reported_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('removed_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('refund', sa.BigInteger(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'upheld', 'dismissed')", name=op.f('ck_live_reports_state_valid')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_live_reports_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reported_by_id'], ['users.id'], name=op.f('fk_live_reports_reported_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_live_reports_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_reports'))
    )
    with op.batch_alter_table('live_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_reports_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_live_reports_state_created_at', ['state', 'created_at'], unique=False)

    op.create_table('order_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('link_url', sa.String(length=300), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('feedback', sa.Text(), nullable=False),
    sa.Column('decided_at', marketplace.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_drafts_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_order_drafts_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_drafts')),
    sa.UniqueConstraint('order_id', 'number', name=op.f('uq_order_drafts_order_id_number'))
    )
    op.create_table('order_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_side', sa.String(length=8), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_order_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_events_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_events'))
    )
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index('ix_order_events_order_id_id', ['order_id', 'id'], unique=False)

    op.create_table('order_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('creator_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('author_side', sa.String(length=8), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('visible', sa.Boolean(), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("author_side IN ('brand', 'creator')", name=op.f('ck_order_reviews_author_side_valid')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_order_reviews_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['creator_id'], ['creators.id'], name=op.f('fk_order_reviews_creator_id_creators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_order_reviews_enterprise_id_enterprises'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_reviews_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_reviews')),
    sa.UniqueConstraint('order_id', 'author_side', name=op.f('uq_order_reviews_order_id_author_side'))
    )
    with op.batch_alter_table('order_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_order_reviews_creator_id_visible_created_at', ['creator_id', 'visible', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_reviews_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('dispute_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('created_at', marketplace.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_dispute_evidence_dispute_id_disputes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_dispute_evidence_file_id_stored_files'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_evidence'))
    )
    with op.batch_alter_table('dispute_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_evidence_dispute_id'), ['dispute_id'], unique=False)

    op.create_table('order_draft_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['order_drafts.id'], name=op.f('fk_order_draft_files_draft_id_order_drafts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_order_draft_files_file_id_stored_files'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_draft_files'))
    )
    with op.batch_alter_table('order_draft_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_draft_files_draft_id'), ['draft_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('order_draft_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_draft_files_draft_id'))

    op.drop_table('order_draft_files')
    with op.batch_alter_table('dispute_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_evidence_dispute_id'))

    op.drop_table('dispute_evidence')
    with op.batch_alter_table('order_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_reviews_enterprise_id'))
        batch_op.drop_index('ix_order_reviews_creator_id_visible_created_at')

    op.drop_table('order_reviews')
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index('ix_order_events_order_id_id')

    op.drop_table('order_events')
    op.drop_table('order_drafts')
    with op.batch_alter_table('live_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_live_reports_state_created_at')
        batch_op.drop_index(batch_op.f('ix_live_reports_order_id'))

    op.drop_table('live_reports')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_disputes_state_created_at')
        batch_op.drop_index(batch_op.f('ix_disputes_order_id'))

    op.drop_table('disputes')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index('ix_applications_job_id_state_created_at')
        batch_op.drop_index('ix_applications_creator_id_created_at')
    op.drop_table('applications')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_state_offer_expires_at')
        batch_op.drop_index('ix_orders_state_live_until')
        batch_op.drop_index('ix_orders_state_auto_confirm_at')
        batch_op.drop_index('ix_orders_job_id')
        batch_op.drop_index('ix_orders_enterprise_id_updated_at')
        batch_op.drop_index('ix_orders_enterprise_id_state_updated_at')
        batch_op.drop_index('ix_orders_creator_id_updated_at')
        batch_op.drop_index('ix_orders_creator_id_state_updated_at')
        batch_op.drop_index('ix_orders_campaign_id_state')

    op.drop_table('orders')
    with op.batch_alter_table('job_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_events_job_id'))

    op.drop_table('job_events')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_submitted_at')
        batch_op.drop_index('ix_jobs_state_application_deadline')
        batch_op.drop_index('ix_jobs_enterprise_id_state_created_at')
        batch_op.drop_index(batch_op.f('ix_jobs_campaign_id'))

    op.drop_table('jobs')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_campaigns_enterprise_id_created_at')

    op.drop_table('campaigns')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_thread_type_thread_id_id')

    op.drop_table('messages')
    op.drop_table('thread_reads')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id_read_at')
        batch_op.drop_index('ix_notifications_user_id_id')

    op.drop_table('notifications')
