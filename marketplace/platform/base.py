"""The platform connector seam: what Canal asks of the video platform, and the shapes of its answers.

Canal is not the video platform. Creator and work statistics come from a connector, and (later) boost
impressions are served through it. Every connector implements ``PlatformConnector``; which one runs is
configuration (``PLATFORM_CONNECTOR``), never a code change.

Invariants every connector keeps:
- an account is identified by ``(platform, external_id)``; the external id never changes for an account
  (handles may), and a work by ``(platform, external_id)`` likewise;
- answers are plain immutable values (the dataclasses below), never ORM rows: the caller copies them into
  the database (``marketplace.creators.stats``);
- percentages in ``AccountStats.audience`` are whole numbers and each distribution sums to exactly 100;
- datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class AccountInfo:
    """A platform account, as found by ``lookup_account``."""

    external_id: str
    handle: str  # with the leading "@", lower case
    display_name: str
    platform: str


@dataclass(frozen=True)
class AccountStats:
    """An account's statistics on one day.

    ``engagement_bp`` is (likes + comments + shares) ÷ plays over the recent works, in basis points;
    ``avg_plays`` is the mean plays of the recent works. ``audience`` holds whole percentages:
    ``{"gender": {"female": p, "male": p}, "age": {band: p for AGE_BANDS}, "provinces": {region code: p,
    ..., "other": p}}`` (the top 8 provinces, the rest summed as "other"). ``follower_history`` is one
    ``(date, followers)`` pair per day for the last 90 days, oldest first, ending with today (whose
    followers equal ``followers``).
    """

    followers: int
    avg_plays: int
    engagement_bp: int
    audience: dict[str, Any] = field(default_factory=dict, hash=False)
    follower_history: list[tuple[date, int]] = field(default_factory=list, hash=False)


@dataclass(frozen=True)
class WorkInfo:
    """A published work (video or post) with its statistics so far."""

    external_id: str
    url: str
    title: str
    category: str
    published_at: datetime  # UTC, aware
    duration_s: int
    plays: int
    likes: int
    comments: int
    shares: int
    is_live: bool  # still published and public (False once removed or made private)
    owner_external_id: str


class PlatformConnector(ABC):
    """What Canal needs from a video platform.

    ``now`` (keyword, optional, UTC-aware) is the moment the question is asked about; a live connector
    ignores it and answers about the present, the sandbox uses it to answer deterministically for that day.
    """

    #: the platform code stored with accounts and works (``PlatformAccount.platform``, ``Work.platform``)
    name: str

    @abstractmethod
    def lookup_account(self, identifier: str) -> AccountInfo | None:
        """The account a handle (``"@mia_beauty"``) or profile URL names; None when there is none."""

    @abstractmethod
    def account_stats(self, external_id: str, *, now: datetime | None = None) -> AccountStats:
        """Followers, averages, audience and follower history of a known account.

        :raises LookupError: no such account.
        """

    @abstractmethod
    def list_works(self, external_id: str, limit: int = 30, *, now: datetime | None = None) -> list[WorkInfo]:
        """The account's most recent works (newest first), at most ``limit``.

        :raises LookupError: no such account.
        """

    @abstractmethod
    def lookup_work(self, url: str, *, now: datetime | None = None) -> WorkInfo | None:
        """The work a URL names (with its current statistics); None when there is none."""

    def serve_impressions(self, *, boost_key: str, slot_start: datetime, slot_seconds: int,
                          work_external_id: str, segments: Mapping[str, int],
                          idempotency_key: str) -> Mapping[str, Mapping[str, int]]:
        """Show a work to audience segments during one delivery slot (for the boost engine; not built yet).

        Intended contract: ``segments`` maps an audience segment key (e.g. ``"fans"``,
        ``"f:24-30:44"`` for women aged 24–30 in Guangdong) to the number of impressions Canal's pacing has
        bought there for the slot that starts at ``slot_start`` and lasts ``slot_seconds``. The platform
        serves up to that many (never more; fewer when the segment's inventory runs out) and returns, per
        segment, what happened: ``{"impressions": n, "plays": n, "completions": n, "likes": n,
        "comments": n, "shares": n, "follows": n, "profile_visits": n, "hides": n, "reports": n}``.
        The call is idempotent on ``idempotency_key`` (one per boost and slot): asking again returns the
        same answer and serves nothing more, so a retried slot never double-spends. ``boost_key`` lets the
        platform keep a boost's holdout audience (never served) apart for lift measurement.

        :raises NotImplementedError: until the boost engine lands.
        """
        raise NotImplementedError("serve_impressions is part of the boost engine, which is not built yet")
