"""The sandbox platform: handles, determinism, realistic distributions, known frauds, speed; the connector
choice in the configuration."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.config import ConfigError, load_config
from marketplace.creators.authenticity import NORMS
from marketplace.creators.demo import BIOS, CATEGORY_WORDS, REGION_ZH, demo_creators
from marketplace.creators.taxonomy import AGE_BANDS, CATEGORIES, REGIONS
from marketplace.platform import get_connector
from marketplace.platform.base import PlatformConnector
from marketplace.platform.sandbox import (
    CATEGORY_WEIGHTS,
    KEYWORDS,
    MODELS,
    PROVINCE_WEIGHTS,
    SandboxPlatform,
    infer_category,
    normalize_handle,
)

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox():
    return SandboxPlatform(seed=2026)


@pytest.mark.parametrize(("identifier", "handle"), [
    ("@mia_beauty", "@mia_beauty"),
    ("  @Mia_Beauty ", "@mia_beauty"),
    ("mia_beauty", "@mia_beauty"),
    ("https://sandbox.video/@mia_beauty", "@mia_beauty"),
    ("http://www.sandbox.video/@mia.beauty/?from=share", "@mia.beauty"),
    ("@abc", "@abc"),
    ("@" + "a" * 30, "@" + "a" * 30),
    ("@ab", None),
    ("@" + "a" * 31, None),
    ("@mia beauty", None),
    ("@米娅", None),
    ("", None),
    ("https://example.com/@mia_beauty", None),
    ("https://sandbox.video/@mia_beauty/v/12345670abc", None),
])
def test_handles_and_profile_urls(sandbox, identifier, handle):
    assert normalize_handle(identifier) == handle
    info = sandbox.lookup_account(identifier)
    assert (info.handle if info else None) == handle
    if info:
        assert info.external_id == handle[1:] and info.platform == "sandbox" == sandbox.name


def test_unknown_accounts_are_refused(sandbox):
    with pytest.raises(LookupError):
        sandbox.account_stats("no such account!", now=NOW)
    with pytest.raises(LookupError):
        sandbox.list_works("Mia_Beauty", now=NOW)  # external ids are exact


def test_the_same_handle_is_the_same_account_everywhere():
    one, two, other_seed = SandboxPlatform(2026), SandboxPlatform(2026), SandboxPlatform(7)
    for handle in ("lily_beauty_23", "ajie_car", "fake_followers_glow"):
        assert one.account_stats(handle, now=NOW) == two.account_stats(handle, now=NOW)
        assert one.list_works(handle, now=NOW) == two.list_works(handle, now=NOW)
        assert one.account_stats(handle, now=NOW) != other_seed.account_stats(handle, now=NOW)


def test_history_evolves_by_day_and_never_rewrites_the_past(sandbox):
    today = sandbox.account_stats("xiaolu_meishi", now=NOW)
    later = sandbox.account_stats("xiaolu_meishi", now=NOW + timedelta(days=10, hours=5))
    assert len(today.follower_history) == len(later.follower_history) == 90
    assert today.follower_history[-1] == (NOW.date(), today.followers)
    assert later.follower_history[-1][0] == NOW.date() + timedelta(days=10)
    assert today.follower_history[10:] == later.follower_history[:80]  # the same days, the same numbers
    same_day = sandbox.account_stats("xiaolu_meishi", now=NOW.replace(hour=23))
    assert same_day.follower_history == today.follower_history


def test_works_are_stable_and_their_plays_grow(sandbox):
    works = sandbox.list_works("lily_beauty_23", limit=30, now=NOW)
    assert len(works) == 30
    assert [w.published_at for w in works] == sorted((w.published_at for w in works), reverse=True)
    assert all(w.published_at <= NOW and w.published_at.tzinfo is not None for w in works)
    assert len({w.external_id for w in works}) == 30
    later = {w.external_id: w for w in sandbox.list_works("lily_beauty_23", limit=60, now=NOW + timedelta(days=3))}
    for work in works:
        again = later[work.external_id]
        assert again.url == work.url and again.title == work.title and again.published_at == work.published_at
        assert again.plays >= work.plays
    assert sandbox.list_works("lily_beauty_23", limit=5, now=NOW) == works[:5]


def test_a_work_is_found_by_its_url_and_made_up_urls_are_not(sandbox):
    work = sandbox.list_works("ajie_car", limit=3, now=NOW)[1]
    assert work.url.startswith("https://sandbox.video/@ajie_car/v/")
    assert sandbox.lookup_work(work.url, now=NOW) == work
    assert sandbox.lookup_work(work.url.replace("https://", ""), now=NOW) == work
    code = work.url.rsplit("/", 1)[1]
    forged = code[:-4] + ("0000" if code[-4:] != "0000" else "0001")
    assert sandbox.lookup_work(work.url.replace(code, forged), now=NOW) is None
    assert sandbox.lookup_work(work.url.replace("@ajie_car", "@someone_else"), now=NOW) is None
    assert sandbox.lookup_work(work.url, now=work.published_at - timedelta(seconds=1)) is None  # not yet out
    assert sandbox.lookup_work("https://example.com/v/1", now=NOW) is None


def test_categories_come_from_the_handle_words():
    assert infer_category("@lily_beauty_23") == "beauty"
    assert infer_category("@xiaolu_meishi") == "food"
    assert infer_category("@ajie_car_88") == "auto"
    assert infer_category("@lilycooks") == "food"
    assert infer_category("@catherine_jiang") is None  # "cat" matches only as a whole word
    assert infer_category("@qwerty_123") is None


def test_distributions_are_realistic(sandbox):
    handles = [f"user{i}_{w}" for i, w in zip(range(2000), ["a", "beauty", "car", "mama", "meishi"] * 400,
                                                  strict=True)]
    stats = {h: sandbox.account_stats(h, now=NOW) for h in handles}
    followers = sorted(s.followers for s in stats.values())
    assert 10_000 <= statistics.median(followers) <= 60_000
    assert sum(1_000 <= f <= 100_000 for f in followers) >= 0.6 * len(followers)
    assert 5 <= sum(f >= 1_000_000 for f in followers) <= 150  # a few in the millions
    frauds = Counter(sandbox.is_known_fraudulent(h) for h in handles)
    assert 0.06 <= frauds["bought_followers"] / len(handles) <= 0.10
    assert 0.035 <= frauds["bought_likes"] / len(handles) <= 0.065

    def median_of(word, value):
        return statistics.median(value(s) for h, s in stats.items() if h.endswith(word))

    assert median_of("beauty", lambda s: s.audience["gender"]["female"]) >= 70
    assert median_of("car", lambda s: s.audience["gender"]["female"]) <= 25
    assert median_of("car", lambda s: s.audience["age"]["31-40"] + s.audience["age"]["41-50"]) > \
        median_of("beauty", lambda s: s.audience["age"]["31-40"] + s.audience["age"]["41-50"])
    assert median_of("mama", lambda s: s.audience["gender"]["female"]) >= 75
    for s in list(stats.values())[:200]:
        assert sum(s.audience["gender"].values()) == 100
        assert list(s.audience["age"]) == list(AGE_BANDS) and sum(s.audience["age"].values()) == 100
        provinces = s.audience["provinces"]
        assert len(provinces) == 9 and "other" in provinces and sum(provinces.values()) == 100
        assert set(provinces) - {"other"} <= set(REGIONS)
        assert 0 < s.engagement_bp < 10_000 and s.avg_plays > 0


def test_known_frauds_look_the_part(sandbox):
    assert sandbox.is_known_fraudulent("@fake_followers_glow") == "bought_followers"
    assert sandbox.is_known_fraudulent("@fake_likes_yummy") == "bought_likes"
    assert sandbox.is_known_fraudulent("not valid!") is None
    bought = sandbox.account_stats("fake_followers_glow", now=NOW)
    jumps = [after / before - 1 for (_, before), (_, after) in
             zip(bought.follower_history, bought.follower_history[1:], strict=False)]
    assert max(jumps) >= 0.15  # a batch of fake followers arrived
    likes = sandbox.list_works("fake_likes_yummy", now=NOW)
    honest = sandbox.list_works("yummy_likes", now=NOW)

    def likes_per_play(works):
        return sum(w.likes for w in works) / sum(w.plays for w in works)

    assert likes_per_play(likes) > 2.5 * likes_per_play(honest)


def test_the_connector_is_chosen_by_configuration(tmp_path):
    config = load_config(tmp_path, {"PLATFORM_SANDBOX_SEED": "7"})
    assert config["PLATFORM_CONNECTOR"] == "sandbox"
    connector = get_connector(config)
    assert isinstance(connector, PlatformConnector) and connector.seed == 7
    with pytest.raises(ConfigError, match="PLATFORM_CONNECTOR"):
        load_config(tmp_path, {"PLATFORM_CONNECTOR": "tiktok"})
    with pytest.raises(ConfigError, match="PLATFORM_SANDBOX_SEED"):
        load_config(tmp_path, {"PLATFORM_SANDBOX_SEED": "seven"})
    with pytest.raises(ConfigError, match="PLATFORM_CONNECTOR"):
        get_connector({"PLATFORM_CONNECTOR": "tiktok"})
    with pytest.raises(NotImplementedError):
        connector.serve_impressions(boost_key="b1", slot_start=NOW, slot_seconds=60, work_external_id="x:1",
                                    segments={"fans": 100}, idempotency_key="b1:0")


def test_every_category_and_region_has_its_numbers():
    assert set(MODELS) == set(NORMS) == set(CATEGORIES) == set(CATEGORY_WORDS) == set(BIOS)
    assert set(CATEGORY_WEIGHTS) == set(CATEGORIES) and set(KEYWORDS.values()) == set(CATEGORIES)
    assert set(PROVINCE_WEIGHTS) == set(REGIONS) == set(REGION_ZH)


def test_demo_creators_are_varied_and_read_as_their_category():
    creators = demo_creators()
    assert len(creators) == 300 and len({c.handle for c in creators}) == 300
    assert len({c.email for c in creators}) == 300
    assert {c.categories[0] for c in creators} == set(CATEGORIES)
    assert {c.region for c in creators} == set(REGIONS)
    for creator in creators:
        assert normalize_handle(creator.handle) == "@" + creator.handle
        assert infer_category(creator.handle) == creator.categories[0]
        assert all(code in CATEGORIES for code in creator.categories)
    assert 0.6 <= sum(c.accepting_orders for c in creators) / 300 <= 0.8
    assert sum(c.kind == "studio" for c in creators) >= 15
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in c.display_name) for c in creators) >= 200
    fakes = [c.handle for c in creators if c.handle.startswith("fake_")]
    assert len(fakes) == 6
    assert demo_creators() == creators  # deterministic
