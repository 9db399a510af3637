"""The authenticity score on sandbox accounts whose truth is known, and on hand-built statistics.

Threshold: an account that bought followers or likes scores below ``SUSPICIOUS_BELOW`` (60), every one of
them; at least 95 % of ordinary accounts score 70 or more.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from marketplace.creators.authenticity import (
    SUSPICIOUS_BELOW,
    Assessment,
    Reason,
    assess,
    reason_message,
    tier,
)
from marketplace.platform.base import AccountStats, WorkInfo
from marketplace.platform.sandbox import SandboxPlatform

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
WORDS = ["lily", "xiaolu", "ajie", "momo", "tony", "nana", "kk", "yuki", "dabao", "sisi", "leo", "mia"]
TOPICS = ["beauty", "meishi", "car", "tech", "mama", "travel", "gym", "cat", "vlog", "music", "funny", "home",
          "study", "licai", "ootd", "game", ""]


def sample_handles(count: int) -> list[str]:
    handles = [f"@{WORDS[i % len(WORDS)]}_{TOPICS[i % len(TOPICS)]}_{i}".replace("__", "_")
               for i in range(count)]
    handles += [f"@fake_followers_{t or 'x'}_{i}" for i, t in enumerate(TOPICS[:10])]
    handles += [f"@fake_likes_{t or 'x'}_{i}" for i, t in enumerate(TOPICS[:10])]
    return handles


@pytest.fixture(scope="module")
def assessed():
    platform = SandboxPlatform(seed=2026)
    results = []
    for handle in sample_handles(600):
        external_id = platform.lookup_account(handle).external_id
        stats = platform.account_stats(external_id, now=NOW)
        works = platform.list_works(external_id, now=NOW)
        results.append((handle, platform.is_known_fraudulent(handle),
                        assess(stats, works, platform.category_of(handle))))
    return results


def test_the_sample_holds_enough_of_each_kind(assessed):
    kinds = Counter(kind for _, kind, _ in assessed)
    assert kinds["bought_followers"] >= 40
    assert kinds["bought_likes"] >= 25
    assert kinds[None] >= 450


def test_every_account_that_bought_followers_or_likes_scores_low(assessed):
    high = [(handle, kind, a.score) for handle, kind, a in assessed if kind and a.score >= SUSPICIOUS_BELOW]
    assert high == []


def test_ordinary_accounts_score_70_or_more(assessed):
    ordinary = [a.score for _, kind, a in assessed if kind is None]
    assert sum(score >= 70 for score in ordinary) >= 0.95 * len(ordinary)


def test_each_kind_of_fraud_gives_its_reason(assessed):
    for handle, kind, assessment in assessed:
        codes = {reason.code for reason in assessment.reasons}
        if kind == "bought_followers":
            assert "follower_spike" in codes, handle
        elif kind == "bought_likes":
            assert "like_play_high" in codes, handle
    likes = [a for _, kind, a in assessed if kind == "bought_likes"]
    with_comment_reason = [a for a in likes if "comment_like_low" in {r.code for r in a.reasons}]
    assert len(with_comment_reason) >= 0.9 * len(likes)
    spikes_among_ordinary = [h for h, kind, a in assessed if kind is None
                             and "follower_spike" in {r.code for r in a.reasons}]
    assert spikes_among_ordinary == []


def test_reasons_are_json_and_worded(assessed):
    for _, kind, assessment in assessed:
        if not kind:
            continue
        stored = json.loads(json.dumps(assessment.reasons_json()))
        assert stored == [{"code": r.code, "params": r.params} for r in assessment.reasons]
        for reason in stored:
            text = str(reason_message(reason))
            assert "%(" not in text and "out of line" not in text
            assert str(reason_message(Reason(reason["code"], reason["params"]))) == text


# --- hand-built statistics ----------------------------------------------------------------------------------

def history(days: int, start: int, daily: float, jump_on: int | None = None, jump: float = 0.0):
    first = date(2026, 8, 1)
    followers, rows = float(start), []
    for i in range(days):
        followers *= 1 + daily + (jump if i == jump_on else 0.0)
        rows.append((first + timedelta(days=i), round(followers)))
    return rows


def work(i: int, plays: int, published: date, likes_per_play=0.03, comments_per_like=0.05) -> WorkInfo:
    likes = round(plays * likes_per_play)
    return WorkInfo(external_id=f"w{i}", url=f"https://sandbox.video/@x/v/{i}", title="t", category="beauty",
                    published_at=datetime.combine(published, datetime.min.time(), UTC), duration_s=60,
                    plays=plays, likes=likes, comments=round(likes * comments_per_like),
                    shares=round(likes * 0.06), is_live=True, owner_external_id="x")


def stats_of(rows) -> AccountStats:
    return AccountStats(followers=rows[-1][1], avg_plays=0, engagement_bp=0, audience={}, follower_history=rows)


def test_an_ordinary_account_scores_100():
    rows = history(90, 50_000, 0.001)
    followers = rows[-1][1]  # micro tier: median plays ≈ 0.25 × 1.25 of followers
    works = [work(i, round(followers * 0.31 * (0.8 + 0.02 * i)), rows[-1 - 2 * i][0]) for i in range(20)]
    assert assess(stats_of(rows), works, "beauty") == Assessment(100, [])


def test_a_spike_with_no_hit_video_is_a_reason_and_a_hit_explains_it():
    rows = history(90, 50_000, 0.001, jump_on=60, jump=0.4)
    followers = rows[-1][1]
    works = [work(i, round(followers * 0.3), rows[-1 - 3 * i][0]) for i in range(12)]
    spiked = assess(stats_of(rows), works, "beauty")
    assert [r.code for r in spiked.reasons] == ["follower_spike"]
    assert spiked.reasons[0].params["day"] == rows[60][0].isoformat()
    assert spiked.reasons[0].params["jump_pct"] == 40
    assert spiked.score < SUSPICIOUS_BELOW

    hit = work(99, followers * 5, rows[58][0])  # a video that took off two days before the jump
    explained = assess(stats_of(rows), [*works, hit], "beauty")
    assert explained.reasons == [] and explained.score == 100


def test_likes_far_above_plays_and_few_comments_are_reasons():
    rows = history(90, 200_000, 0.0005)
    followers = rows[-1][1]
    works = [work(i, round(followers * 0.2), rows[-1 - i][0], likes_per_play=0.2, comments_per_like=0.005)
             for i in range(10)]
    result = assess(stats_of(rows), works, "beauty")
    assert {r.code for r in result.reasons} == {"like_play_high", "comment_like_low"}
    like = next(r for r in result.reasons if r.code == "like_play_high")
    assert like.params == {"actual_pct": 20.0, "expected_pct": 3.0, "category": "beauty"}
    assert result.score < 30


def test_plays_and_engagement_far_below_the_followers():
    rows = history(90, 900_000, 0.0005)  # mid tier
    works = [work(i, 3_000, rows[-1 - i][0]) for i in range(10)]
    result = assess(stats_of(rows), works, "food")
    assert {r.code for r in result.reasons} == {"low_engagement", "low_plays"}
    assert tier(rows[-1][1]) == ("mid", 0.8)
    assert "mid" == next(r for r in result.reasons if r.code == "low_plays").params["tier"]


def test_too_few_works_or_followers_leave_the_ratios_unjudged():
    rows = history(90, 50_000, 0.001)
    works = [work(i, 10, rows[-1][0], likes_per_play=0.5) for i in range(4)]  # absurd, but only four
    assert assess(stats_of(rows), works, "beauty").score == 100
    assert assess(stats_of(rows[:5]), [], "beauty").score == 100  # too short a history to see a trend
    tiny = history(90, 40, 0.0)
    assert assess(stats_of(tiny), [work(i, 1, tiny[-1][0]) for i in range(8)], "beauty").score == 100


def test_an_unknown_category_is_judged_as_lifestyle():
    rows = history(90, 200_000, 0.0005)
    works = [work(i, round(rows[-1][1] * 0.2), rows[-1 - i][0], likes_per_play=0.2) for i in range(10)]
    assert assess(stats_of(rows), works, "underwater_basket_weaving") == assess(stats_of(rows), works, "lifestyle")


def test_unknown_or_incomplete_stored_reasons_still_read_in_words():
    assert "out of line" in str(reason_message({"code": "retired_rule", "params": {}}))
    assert "out of line" in str(reason_message({"code": "low_plays", "params": {"actual_pct": 1}}))
    text = str(reason_message({"code": "low_engagement", "params": {
        "actual_pct": 0.12, "expected_pct": 1.5, "category": "auto", "tier": "mid"}}))
    assert "0.12%" in text and "1.5%" in text and "Cars" in text and "100k–1M" in text
