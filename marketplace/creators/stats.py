"""Creator statistics from the platform connector: linking an account, importing its works and daily
snapshots, and the search columns denormalised on ``Creator``; the job that keeps them fresh.

Invariants:
- a platform account ``(platform, external_id)`` is linked to at most one creator — the database's UNIQUE
  constraint has the last word under races — and a creator to at most one account;
- works and snapshots are upserted on their UNIQUE keys (``(platform, external_id)``, ``(creator_id,
  taken_on)``): refreshing twice, or from two processes at once, leaves one row each; there is one
  snapshot per day (today's is updated by later refreshes, past days are never rewritten);
- the denormalised columns (followers, avg_plays, engagement_bp, audience, audience_female_pct,
  audience_main_age, authenticity_score/_reasons, stats_refreshed_at) are written in the same transaction as
  the snapshot they come from;
- a refresh locks the creator's row first (on PostgreSQL), so concurrent refreshes of one creator queue
  rather than deadlock, and the job's batches skip rows another runner holds.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.creators.authenticity import assess
from marketplace.creators.models import Creator, PlatformAccount, StatSnapshot, Work
from marketplace.creators.services import refresh_listed
from marketplace.creators.taxonomy import AGE_BANDS
from marketplace.db import utcnow
from marketplace.errors import ValidationFailed
from marketplace.platform import AccountStats, PlatformConnector, WorkInfo, get_connector

log = logging.getLogger("canal.creators.stats")

RECENT_WORKS = 30  # works imported on each refresh
STALE_AFTER = timedelta(days=1)  # the job refreshes creators whose statistics are older than this
REFRESH_EVERY_SECONDS = 6 * 3600
BATCH_SIZE = 100  # creators per transaction in the job
JOB_TIME_BUDGET_SECONDS = 120  # a run stops starting batches after this; the next run goes on

UNKNOWN_ACCOUNT = _l("We could not find that account on the video platform. Enter your handle, like "
                     "@mia_beauty, or the link to your profile.")
ACCOUNT_TAKEN = _l("This platform account is already linked to another creator on Canal. If it is yours, "
                   "contact support.")


def current_connector() -> PlatformConnector:
    """The connector this app is configured with (``PLATFORM_CONNECTOR``)."""
    return get_connector(current_app.config)


def link_platform_account(session: Session, creator: Creator, identifier: str, *, now: datetime | None = None,
                          connector: PlatformConnector | None = None) -> PlatformAccount:
    """Link the platform account ``identifier`` (a handle or profile URL) to ``creator`` and import its
    statistics. Linking the account already linked is a no-op; linking another one replaces it (its works and
    snapshots go with it).

    :raises ValidationFailed: (field ``account``) no such account, or it is linked to another creator.
    """
    platform = connector or current_connector()
    info = platform.lookup_account(identifier)
    if info is None:
        raise ValidationFailed(UNKNOWN_ACCOUNT, field="account")
    current = _account_of(session, creator)
    if current is not None and (current.platform, current.external_id) == (info.platform, info.external_id):
        return current
    holder = session.scalar(select(PlatformAccount.creator_id).where(
        PlatformAccount.platform == info.platform, PlatformAccount.external_id == info.external_id))
    if holder is not None:
        raise ValidationFailed(ACCOUNT_TAKEN, field="account")
    try:
        with session.begin_nested():
            if current is None:
                account = PlatformAccount(creator_id=creator.id, platform=info.platform,
                                          external_id=info.external_id, handle=info.handle, linked_at=now or utcnow())
                session.add(account)
            else:  # another account replaces the linked one: its copies go
                session.execute(delete(Work).where(Work.creator_id == creator.id))
                session.execute(delete(StatSnapshot).where(StatSnapshot.creator_id == creator.id))
                account = current
                account.platform, account.external_id, account.handle = info.platform, info.external_id, info.handle
                account.linked_at, account.refreshed_at = now or utcnow(), None
            session.flush()
    except IntegrityError as exc:  # linked in a concurrent transaction: by this creator (a double submit) or not
        mine = _account_of(session, creator)
        if mine is not None and (mine.platform, mine.external_id) == (info.platform, info.external_id):
            return mine
        raise ValidationFailed(ACCOUNT_TAKEN, field="account") from exc
    session.expire(creator, ["platform_account"])
    refresh_creator_stats(session, creator, now=now, connector=platform)
    return account


def refresh_creator_stats(session: Session, creator: Creator, now: datetime | None = None, *,
                          connector: PlatformConnector | None = None) -> bool:
    """Copy the linked account's statistics and recent works from the platform; False when there is no
    linked account (or it belongs to another platform than the configured one)."""
    now = now or utcnow()
    platform = connector or current_connector()
    # Serialise refreshes of one creator (a no-op on SQLite, whose writers are serial).
    session.execute(select(Creator.id).where(Creator.id == creator.id).with_for_update())
    account = _account_of(session, creator)
    if account is None or account.platform != platform.name:
        return False
    stats = platform.account_stats(account.external_id, now=now)
    works = platform.list_works(account.external_id, limit=RECENT_WORKS, now=now)
    _upsert_works(session, creator, account, works, now)
    _upsert_snapshots(session, creator, stats, now)

    assessment = assess(stats, works, _baseline_category(creator, works))
    audience = stats.audience
    ages = audience.get("age") or {}
    creator.followers = stats.followers
    creator.avg_plays = stats.avg_plays
    creator.engagement_bp = stats.engagement_bp
    creator.audience = audience
    creator.audience_female_pct = int((audience.get("gender") or {}).get("female", 0))
    creator.audience_main_age = max(AGE_BANDS, key=lambda band: ages.get(band, 0)) if ages else ""
    creator.authenticity_score = assessment.score
    creator.authenticity_reasons = assessment.reasons_json()
    creator.stats_refreshed_at = now
    creator.updated_at = now
    account.refreshed_at = now
    refresh_listed(session, creator)
    session.flush()
    return True


def refresh_stale_stats(session: Session, now: datetime, *, batch_size: int = BATCH_SIZE,
                        stale_after: timedelta = STALE_AFTER,
                        time_budget_seconds: float = JOB_TIME_BUDGET_SECONDS) -> int:
    """Refresh every linked creator whose statistics are older than ``stale_after``, a batch per committed
    transaction; return how many were refreshed. (Job ``creators.refresh_stats``: safe to run twice or
    concurrently — a batch's rows stay locked until it commits and other runners skip them.)"""
    cutoff = now - stale_after
    started = time.monotonic()
    refreshed, failed = 0, set()
    while time.monotonic() - started < time_budget_seconds:
        query = (select(Creator)
                 .join(PlatformAccount, PlatformAccount.creator_id == Creator.id)
                 .where(or_(Creator.stats_refreshed_at.is_(None), Creator.stats_refreshed_at < cutoff))
                 .order_by(Creator.stats_refreshed_at.asc().nulls_first(), Creator.id)
                 .limit(batch_size)
                 .with_for_update(of=Creator, skip_locked=True))
        if failed:
            query = query.where(Creator.id.not_in(failed))
        batch = session.scalars(query).all()
        if not batch:
            break
        for creator in batch:
            try:
                with session.begin_nested():
                    if refresh_creator_stats(session, creator, now):
                        refreshed += 1
                    else:
                        failed.add(creator.id)
            except Exception:  # noqa: BLE001 - one account the platform cannot answer for must not stop the rest
                log.exception("statistics of creator %s not refreshed; retried on the next run", creator.id)
                failed.add(creator.id)
        session.commit()
    return refreshed


# --- helpers -----------------------------------------------------------------------------------------------


def _account_of(session: Session, creator: Creator) -> PlatformAccount | None:
    return session.scalar(select(PlatformAccount).where(PlatformAccount.creator_id == creator.id))


def _upsert(session: Session, table, rows: list[dict], keys: list[str], update: list[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE (the ``update`` columns) or DO NOTHING, on SQLite and PostgreSQL."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={column: statement.excluded[column] for column in update})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement, rows)  # executemany: one cached statement, whatever the number of rows


def _upsert_works(session: Session, creator: Creator, account: PlatformAccount, works: list[WorkInfo],
                  now: datetime) -> None:
    rows = [{"creator_id": creator.id, "platform": account.platform, "external_id": w.external_id, "url": w.url,
             "title": w.title[:200], "category": w.category, "published_at": w.published_at,
             "duration_s": w.duration_s, "plays": w.plays, "likes": w.likes, "comments": w.comments,
             "shares": w.shares, "is_live": w.is_live, "refreshed_at": now}
            for w in sorted(works, key=lambda w: w.external_id)]  # one order everywhere: no lock cycles
    _upsert(session, Work.__table__, rows, ["platform", "external_id"],
            ["creator_id", "url", "title", "category", "published_at", "duration_s", "plays", "likes",
             "comments", "shares", "is_live", "refreshed_at"])


def _upsert_snapshots(session: Session, creator: Creator, stats: AccountStats, now: datetime) -> None:
    """Today's snapshot (updated if there is one), and the days since the last snapshot from the platform's
    follower history (all 90 on the first refresh); past days are never rewritten."""
    today = now.date()
    last = session.scalar(select(func.max(StatSnapshot.taken_on)).where(StatSnapshot.creator_id == creator.id))
    past = [{"creator_id": creator.id, "taken_on": day, "followers": followers, "avg_plays": 0, "engagement_bp": 0}
            for day, followers in stats.follower_history if day < today and (last is None or day > last)]
    _upsert(session, StatSnapshot.__table__, past, ["creator_id", "taken_on"], [])
    _upsert(session, StatSnapshot.__table__,
            [{"creator_id": creator.id, "taken_on": today, "followers": stats.followers,
              "avg_plays": stats.avg_plays, "engagement_bp": stats.engagement_bp}],
            ["creator_id", "taken_on"], ["followers", "avg_plays", "engagement_bp"])


def _baseline_category(creator: Creator, works: list[WorkInfo]) -> str:
    """The category to judge the statistics against: what most works are about, else the creator's first."""
    counts = Counter(w.category for w in works if w.category)
    if counts:
        return counts.most_common(1)[0][0]
    return creator.category_codes[0] if creator.categories else "lifestyle"
