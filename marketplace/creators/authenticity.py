"""Authenticity score: how far a creator's statistics look bought rather than earned (pure: no app, no DB).

``assess(stats, works, category)`` compares an account's numbers with its category's norms (``NORMS``) and
its follower tier (``TIERS``) and lists what is out of line, each as a ``Reason`` (a code and
JSON-serialisable params, stored in ``Creator.authenticity_reasons``; ``reason_message`` words it):

- ``follower_spike``: a day-over-day follower jump far above the account's trend, with no hit video around
  it to explain it (bought followers arrive in batches; organic jumps follow a video that took off);
- ``low_engagement``: interactions per video far below what accounts of this size in the category get,
  for the follower count (fake followers never like or comment);
- ``low_plays``: plays per video far below the follower count;
- ``like_play_high`` / ``like_play_low``: likes per play far above (bought likes) or below (bought plays)
  the category's norm;
- ``comment_like_low``: comments per like far below the norm (bought likes bring no comments).

Invariants: the score is an integer in 0..100; 100 means nothing is out of line; each reason lowers it by a
penalty that grows with how far the number is from the norm; the same inputs always give the same result.
Scores below ``SUSPICIOUS_BELOW`` (60) mean "likely bought followers or likes"; honest accounts score 70+.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from marketplace.creators.taxonomy import CATEGORIES
from marketplace.platform.base import AccountStats, WorkInfo

SUSPICIOUS_BELOW = 60
MIN_WORKS = 5  # fewer works than this: too little to judge the ratios
MIN_FOLLOWERS = 100


@dataclass(frozen=True)
class Norm:
    """What is typical for a category."""

    reach: float  # median plays of a work ÷ followers, for an account of 100k followers
    like_play: float  # likes ÷ plays
    comment_like: float  # comments ÷ likes
    share_like: float  # shares ÷ likes

    def interactions_per_play(self) -> float:
        return self.like_play * (1 + self.comment_like + self.share_like)


NORMS: dict[str, Norm] = {
    "beauty": Norm(0.25, 0.030, 0.050, 0.06),
    "fashion": Norm(0.25, 0.028, 0.040, 0.05),
    "food": Norm(0.35, 0.035, 0.040, 0.10),
    "travel": Norm(0.30, 0.032, 0.030, 0.12),
    "tech": Norm(0.25, 0.022, 0.080, 0.06),
    "gaming": Norm(0.30, 0.040, 0.070, 0.04),
    "parenting": Norm(0.20, 0.025, 0.070, 0.09),
    "fitness": Norm(0.25, 0.030, 0.040, 0.08),
    "home": Norm(0.22, 0.026, 0.050, 0.12),
    "pets": Norm(0.40, 0.045, 0.040, 0.10),
    "auto": Norm(0.22, 0.020, 0.080, 0.05),
    "education": Norm(0.18, 0.020, 0.060, 0.15),
    "finance": Norm(0.15, 0.018, 0.090, 0.12),
    "music": Norm(0.30, 0.040, 0.030, 0.06),
    "comedy": Norm(0.45, 0.050, 0.030, 0.12),
    "lifestyle": Norm(0.28, 0.030, 0.040, 0.06),
}

# Follower tiers: (followers below, name, reach relative to the 100k norm). Small accounts reach a larger
# share of their followers, big ones a smaller share.
TIERS: tuple[tuple[float, str, float], ...] = (
    (10_000, "nano", 2.0),
    (100_000, "micro", 1.25),
    (1_000_000, "mid", 0.8),
    (10_000_000, "macro", 0.5),
    (float("inf"), "mega", 0.32),
)

# Thresholds (ratios to the norm) and the penalties they cost.
SPIKE_MIN_JUMP = 0.10  # a day's growth this far above the typical day's is a spike…
SPIKE_MIN_SPREADS = 10  # …and also this many robust standard deviations above it
HIT_PLAYS = 8  # a work with this many times the median plays is a hit (explains a spike within 3 days)
LOW_ENGAGEMENT = 0.3
LOW_PLAYS = 0.3
LIKE_PLAY_HIGH = 2.2
LIKE_PLAY_LOW = 0.3
COMMENT_LIKE_LOW = 0.4


@dataclass(frozen=True)
class Reason:
    """Why the score is lower: a code and JSON-serialisable params (numbers, ISO dates, codes)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params)}


@dataclass(frozen=True)
class Assessment:
    score: int  # 0..100
    reasons: list[Reason] = field(default_factory=list, hash=False)

    def reasons_json(self) -> list[dict[str, Any]]:
        return [reason.to_json() for reason in self.reasons]


def tier(followers: int) -> tuple[str, float]:
    """The follower tier's name and its reach relative to the 100k norm."""
    return next((name, reach) for below, name, reach in TIERS if followers < below)


def assess(stats: AccountStats, works: Sequence[WorkInfo], category: str) -> Assessment:
    """Score ``stats`` and ``works`` against ``category``'s norms (an unknown category: lifestyle's)."""
    norm = NORMS.get(category) or NORMS["lifestyle"]
    category = category if category in NORMS else "lifestyle"
    found: list[tuple[Reason, float]] = []
    plays = [w.plays for w in works]
    median_plays = statistics.median(plays) if plays else 0

    spike = _biggest_spike(stats.follower_history)
    if spike is not None and not _hit_near(works, spike[0], median_plays):
        day, jump, typical = spike
        found.append((Reason("follower_spike", {"day": day.isoformat(), "jump_pct": _pct(jump),
                                                "typical_pct": _pct(typical, 2)}),
                      min(65.0, 45 + 50 * (jump - typical - SPIKE_MIN_JUMP))))

    followers = stats.followers
    if len(works) >= MIN_WORKS and followers >= MIN_FOLLOWERS:
        tier_name, tier_reach = tier(followers)
        expected_reach = norm.reach * tier_reach
        reach = median_plays / followers
        engagement = statistics.median(w.likes + w.comments + w.shares for w in works) / followers
        expected_engagement = expected_reach * norm.interactions_per_play()
        tier_params = {"category": category, "tier": tier_name}
        if engagement < LOW_ENGAGEMENT * expected_engagement:
            ratio = engagement / expected_engagement
            found.append((Reason("low_engagement", {"actual_pct": _pct(engagement, 3),
                                                    "expected_pct": _pct(expected_engagement, 3), **tier_params}),
                          min(50.0, 25 + 100 * (LOW_ENGAGEMENT - ratio))))
        if reach < LOW_PLAYS * expected_reach:
            ratio = reach / expected_reach
            found.append((Reason("low_plays", {"actual_pct": _pct(reach, 1), "expected_pct": _pct(expected_reach, 1),
                                               **tier_params}),
                          min(35.0, 15 + 70 * (LOW_PLAYS - ratio))))

        total_plays, total_likes = sum(plays), sum(w.likes for w in works)
        if total_plays > 0:
            like_play = total_likes / total_plays
            ratio = like_play / norm.like_play
            params = {"actual_pct": _pct(like_play, 1), "expected_pct": _pct(norm.like_play, 1),
                      "category": category}
            if ratio >= LIKE_PLAY_HIGH:
                found.append((Reason("like_play_high", params), min(65.0, 45 + 10 * (ratio - LIKE_PLAY_HIGH))))
            elif ratio <= LIKE_PLAY_LOW:
                found.append((Reason("like_play_low", params), 20.0))
        if total_likes > 0:
            comment_like = sum(w.comments for w in works) / total_likes
            ratio = comment_like / norm.comment_like
            if ratio <= COMMENT_LIKE_LOW:
                found.append((Reason("comment_like_low", {"actual_pct": _pct(comment_like, 1),
                                                          "expected_pct": _pct(norm.comment_like, 1),
                                                          "category": category}),
                              min(40.0, 20 + 50 * (COMMENT_LIKE_LOW - ratio))))

    score = 100 - round(sum(penalty for _, penalty in found))
    return Assessment(score=max(0, min(100, score)), reasons=[reason for reason, _ in found])


def _pct(share: float, digits: int = 0) -> float | int:
    value = round(100 * share, digits)
    return int(value) if digits == 0 else value


def _biggest_spike(history: Sequence[tuple[Any, int]]):
    """(day, jump, typical daily change) of the largest day-over-day jump far above the trend, or None."""
    changes = [(day, followers / before - 1) for (_, before), (day, followers) in zip(history, history[1:], strict=False)
               if before > 0]
    if len(changes) < 7:
        return None
    typical = statistics.median(change for _, change in changes)
    spread = 1.4826 * statistics.median(abs(change - typical) for _, change in changes)
    day, jump = max(changes, key=lambda item: item[1])
    if jump - typical >= max(SPIKE_MIN_JUMP, SPIKE_MIN_SPREADS * spread):
        return day, jump, typical
    return None


def _hit_near(works: Sequence[WorkInfo], day, median_plays: float) -> bool:
    """Whether a hit video published in the three days up to ``day`` explains a follower jump."""
    return any(day - timedelta(days=3) <= work.published_at.date() <= day and work.plays >= HIT_PLAYS * median_plays > 0
               for work in works)


# --- wording ------------------------------------------------------------------------------------------------

_MESSAGES = {
    "follower_spike": lambda p: _l(
        "Followers jumped by %(jump_pct)s%% on %(day)s, while a typical day changes them by %(typical_pct)s%%, "
        "and no video took off around then.", **p),
    "low_engagement": lambda p: _l(
        "Each video gets interactions from %(actual_pct)s%% of the followers; %(category)s accounts with "
        "%(tier)s followers usually get about %(expected_pct)s%%.", **p),
    "low_plays": lambda p: _l(
        "A typical video is played %(actual_pct)s%% as many times as there are followers; %(category)s "
        "accounts with %(tier)s followers usually reach about %(expected_pct)s%%.", **p),
    "like_play_high": lambda p: _l(
        "%(actual_pct)s%% of plays end in a like, far above the usual %(expected_pct)s%% for %(category)s.", **p),
    "like_play_low": lambda p: _l(
        "Only %(actual_pct)s%% of plays end in a like, far below the usual %(expected_pct)s%% for %(category)s.",
        **p),
    "comment_like_low": lambda p: _l(
        "There are %(actual_pct)s comments per 100 likes, far below the usual %(expected_pct)s for "
        "%(category)s.", **p),
}
_RATIO = ("actual_pct", "expected_pct", "category")
_PARAMS = {"follower_spike": ("jump_pct", "day", "typical_pct"), "low_engagement": (*_RATIO, "tier"),
           "low_plays": (*_RATIO, "tier"), "like_play_high": _RATIO, "like_play_low": _RATIO,
           "comment_like_low": _RATIO}
TIER_LABELS = {"nano": _l("under 10k"), "micro": _l("10k–100k"), "mid": _l("100k–1M"),
               "macro": _l("1M–10M"), "mega": _l("10M+")}


def reason_message(reason: Reason | Mapping[str, Any]):
    """The reason in plain words (a lazy translation), from a ``Reason`` or its stored JSON form."""
    code, params = ((reason.code, reason.params) if isinstance(reason, Reason)
                    else (reason.get("code", ""), reason.get("params") or {}))
    words = _MESSAGES.get(code)
    if words is None or not set(_PARAMS[code]) <= set(params):  # unknown code, or stored params incomplete
        return _l("Something in the statistics is out of line (%(code)s).", code=code)
    values = {key: params[key] for key in _PARAMS[code]}
    if "category" in values:
        values["category"] = CATEGORIES.get(values["category"], values["category"])
    if "tier" in values:
        values["tier"] = TIER_LABELS.get(values["tier"], values["tier"])
    return words(values)
