"""The sandbox platform: a deterministic, seeded simulator of a short-video platform (the default connector).

Any syntactically valid handle (``@`` + 3–30 of ``a-z 0-9 _ .``) is an account. Everything about it derives
from a stable hash of the handle and ``PLATFORM_SANDBOX_SEED``, so the same handle always is the same
account, and its statistics on a given day are always the same: follower history evolves by day, a work's
plays grow with its age, nothing depends on when or how often you ask.

The simulated world:
- followers are heavy-tailed (log-normal around 20k: most accounts 1k–100k, a few in the millions), growing
  (or shrinking) by a per-account daily rate, with now and then an organic jump when a video takes off;
- the category is read from the handle's words ("beauty", "meishi", "car", …), else hashed;
- a work's plays ≈ followers × the category's reach (higher for small accounts) with log-normal noise;
  likes, comments and shares per play depend on the category; the audience's gender, age and province
  splits too (beauty skews to women of 18–30, cars to men over 30; every account has a home province);
- about 8 % of accounts **bought followers**: batches of fake followers bought every 35–60 days bring them to
  3–10 × the real count, and purges erode them in between — so the history shows a recent spike, and
  plays and interactions stay those of the real audience (plus a few bot plays);
- about 5 % **bought likes**: 4–10 × the likes the plays would earn, with the comments of the real likes.
  Handles starting ``fake_followers_`` / ``fake_likes_`` always are of that kind (for demos and tests).

Pure Python and fast: per-account parameters come from ``random.Random`` seeded by the handle; per-day and
per-work values from a BLAKE2 hash of (seed, handle, day, …), so no state is kept between calls.
"""

from __future__ import annotations

import math
import random
import re
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from hashlib import blake2b
from typing import NamedTuple

from marketplace.creators.authenticity import NORMS, Norm
from marketplace.creators.taxonomy import AGE_BANDS, CATEGORIES
from marketplace.platform.base import AccountInfo, AccountStats, PlatformConnector, WorkInfo

PLATFORM = "sandbox"
HOST = "sandbox.video"
HANDLE_RE = re.compile(r"[a-z0-9_.]{3,30}")
_PROFILE_URL_RE = re.compile(r"(?:https?://)?(?:www\.)?sandbox\.video/@([^/?#]+)/?(?:[?#].*)?")
_WORK_URL_RE = re.compile(r"(?:https?://)?(?:www\.)?sandbox\.video/@([^/?#]+)/v/(\d{7}[0-9a-f]{4})/?(?:[?#].*)?")

FAKE_FOLLOWERS_PREFIX = "fake_followers_"
FAKE_LIKES_PREFIX = "fake_likes_"
BOUGHT_FOLLOWERS_SHARE = 0.08
BOUGHT_LIKES_SHARE = 0.05

HISTORY_DAYS = 90
REFERENCE_DAY = date(2026, 1, 1).toordinal()  # followers are drawn for this day, then evolve
MAX_LOOKBACK_DAYS = 400  # how far back list_works looks for works


@dataclass(frozen=True)
class CategoryModel:
    """How a category's audience and content look on the simulated platform. (Its reach and engagement
    follow Canal's category norms, ``authenticity.NORMS``: the sandbox is a world where the norms hold on
    average, and each account deviates from them by its own log-normal factors.)"""

    female: float  # share of women in the audience
    age: tuple[float, ...]  # weights of AGE_BANDS
    long_share: float  # share of long videos (5–25 min)
    titles: tuple[str, ...]


_M = CategoryModel
MODELS: dict[str, CategoryModel] = {
    "beauty": _M(0.80, (34, 38, 18, 7, 3), 0.05, (
        "秋冬干皮粉底液测评｜{n}款对比", "敏感肌护肤步骤分享", "5分钟通勤妆教程", "平价口红试色 {n} 支",
        "Everyday glow makeup in {n} steps", "卸妆误区，你中了几个？", "新手眉毛画法详解")),
    "fashion": _M(0.72, (36, 36, 18, 7, 3), 0.05, (
        "一周通勤穿搭 Day{n}", "小个子显高穿搭技巧", "秋冬大衣怎么选", "OOTD: {n} ways to style a white shirt",
        "百元内宝藏单品分享", "衣橱断舍离｜胶囊衣橱")),
    "food": _M(0.56, (18, 32, 28, 14, 8), 0.12, (
        "在家做红烧肉，零失败", "街头小吃探店第{n}站", "空气炸锅食谱 {n} 道", "一人食｜十分钟快手晚餐",
        "Trying {n} street foods in Chengdu", "妈妈的味道：手工饺子")),
    "travel": _M(0.58, (20, 36, 26, 12, 6), 0.25, (
        "云南自驾{n}天攻略", "冷门小众古镇推荐", "Three days in Xi'an on a budget", "川西秋色航拍",
        "带着爸妈去旅行 Vlog", "机票酒店省钱技巧")),
    "tech": _M(0.25, (26, 38, 24, 9, 3), 0.35, (
        "新手机上手体验：值不值得买？", "{n}款降噪耳机横评", "桌面改造｜效率提升", "Laptop buying guide {n}",
        "充电宝选购避坑指南", "智能家居入门")),
    "gaming": _M(0.22, (52, 32, 11, 4, 1), 0.30, (
        "新赛季上分技巧", "这把操作你给几分？", "Indie games you missed #{n}", "开箱新主机", "单机游戏剧情解说",
        "五排名场面合集")),
    "parenting": _M(0.84, (8, 40, 40, 9, 3), 0.10, (
        "宝宝辅食第{n}周", "0-3岁绘本推荐", "哄睡小技巧", "二胎妈妈的一天", "Kids' snacks in {n} minutes",
        "亲子手工｜周末在家玩")),
    "fitness": _M(0.52, (32, 38, 20, 7, 3), 0.15, (
        "居家燃脂 {n} 分钟", "新手健身房器械教学", "瑜伽拉伸｜缓解久坐", "Running form tips", "减脂餐一周不重样",
        "马甲线养成记 Day{n}")),
    "home": _M(0.68, (10, 30, 36, 17, 7), 0.15, (
        "出租屋改造｜{n}元搞定", "收纳神器分享", "小户型客厅设计", "Cleaning routine that works",
        "好物清单：厨房篇", "阳台花园打造")),
    "pets": _M(0.66, (30, 36, 22, 8, 4), 0.05, (
        "猫咪的迷惑行为第{n}弹", "狗狗洗澡记", "新手养猫必备清单", "My cat reviews {n} toys", "宠物零食自制",
        "带狗狗去露营")),
    "auto": _M(0.15, (10, 28, 34, 20, 8), 0.35, (
        "新能源车{n}万公里真实体验", "二手车避坑指南", "试驾｜家用SUV怎么选", "Road trip car check in {n} steps",
        "自驾318国道", "保养费用全解析")),
    "education": _M(0.52, (34, 22, 18, 18, 8), 0.45, (
        "英语口语每日一句 #{n}", "考研数学复习规划", "高效记笔记方法", "How I learned {n} words a week",
        "Python 入门第{n}课", "家长必看：小学数学思维")),
    "finance": _M(0.38, (10, 30, 34, 18, 8), 0.40, (
        "月薪五千怎么存钱", "基金定投入门", "记账{n}年，我学到了什么", "Personal budget in {n} buckets",
        "信用卡避坑", "保险怎么买不踩雷")),
    "music": _M(0.55, (44, 32, 15, 6, 3), 0.10, (
        "翻唱《{n}》", "吉他弹唱教学", "Piano cover #{n}", "街头唱歌路人反应", "一分钟学会和弦",
        "原创新歌 demo")),
    "comedy": _M(0.48, (38, 34, 18, 7, 3), 0.05, (
        "当代打工人的一天", "办公室搞笑日常 第{n}集", "方言挑战", "When your mom calls {n} times",
        "情侣日常｜笑到停不下来", "模仿秀合集")),
    "lifestyle": _M(0.62, (34, 36, 20, 7, 3), 0.15, (
        "独居女孩的周末 Vlog", "早起{n}天挑战", "My morning routine", "好物分享｜提升幸福感", "城市漫步 Citywalk",
        "年度消费总结")),
}

# Words in handles that give away the category (pinyin and English). A whole word matches first; then a
# keyword of 4+ letters inside a word ("lilycooks" → "cook"). Short keywords ("cat", "car") only match whole.
KEYWORDS: dict[str, str] = {
    **dict.fromkeys(("beauty", "makeup", "meizhuang", "skincare", "hufu", "lipstick", "cosmetic", "glow",
                     "meimei"), "beauty"),
    **dict.fromkeys(("fashion", "style", "ootd", "chuanda", "outfit", "wear", "shishang"), "fashion"),
    **dict.fromkeys(("food", "foodie", "meishi", "cook", "chef", "chihuo", "baking", "kitchen", "recipe",
                     "eat", "tandian"), "food"),
    **dict.fromkeys(("travel", "trip", "lvxing", "lvyou", "journey", "wander", "roam"), "travel"),
    **dict.fromkeys(("tech", "keji", "digital", "gadget", "shuma", "geek"), "tech"),
    **dict.fromkeys(("game", "gaming", "gamer", "youxi", "esports"), "gaming"),
    **dict.fromkeys(("mom", "mama", "baby", "muying", "parent", "parenting", "dad", "baba", "kids",
                     "yuer"), "parenting"),
    **dict.fromkeys(("fit", "fitness", "gym", "jianshen", "yoga", "workout", "runner"), "fitness"),
    **dict.fromkeys(("home", "jiaju", "decor", "interior", "living", "shouna"), "home"),
    **dict.fromkeys(("pet", "pets", "cat", "dog", "mengchong", "maomi", "puppy", "kitty", "miao",
                     "wangwang"), "pets"),
    **dict.fromkeys(("auto", "car", "cars", "qiche", "drive", "driver", "motor", "shuoche"), "auto"),
    **dict.fromkeys(("edu", "education", "study", "learn", "jiaoyu", "teacher", "english", "math",
                     "xuexi", "laoshi"), "education"),
    **dict.fromkeys(("finance", "money", "licai", "invest", "caijing", "stock", "budget"), "finance"),
    **dict.fromkeys(("music", "yinyue", "song", "sing", "singer", "guitar", "piano", "changge"), "music"),
    **dict.fromkeys(("comedy", "funny", "gaoxiao", "joke", "xiaohua", "duanzi"), "comedy"),
    **dict.fromkeys(("life", "lifestyle", "vlog", "shenghuo", "daily", "richang"), "lifestyle"),
}
_KEYWORDS_LONGEST_FIRST = sorted(KEYWORDS, key=len, reverse=True)

# How often each category is drawn when the handle does not say.
CATEGORY_WEIGHTS = {"beauty": 12, "food": 12, "lifestyle": 11, "fashion": 9, "comedy": 8, "travel": 6,
                    "pets": 6, "fitness": 5, "parenting": 5, "gaming": 5, "tech": 5, "home": 4, "music": 4,
                    "auto": 3, "education": 3, "finance": 2}

# Online population by province (millions, rounded); tier-1 cities watch more per head.
PROVINCE_WEIGHTS = {
    "44": 150, "37": 95, "41": 90, "32": 90, "51": 80, "33": 75, "13": 68, "43": 60, "34": 55, "42": 56,
    "45": 45, "35": 42, "53": 40, "36": 40, "21": 40, "61": 38, "52": 33, "14": 32, "50": 32, "31": 40,
    "11": 38, "23": 28, "65": 22, "15": 22, "22": 22, "62": 20, "12": 14, "46": 9, "64": 6, "63": 5,
    "54": 3, "81": 4, "82": 1, "71": 1,
}
# Categories whose audience leans to the big coastal cities.
_URBAN = {"beauty", "fashion", "tech", "finance", "travel", "lifestyle"}
_URBAN_PROVINCES = {"11", "31", "44", "33", "32"}


def normalize_handle(identifier: str) -> str | None:
    """The handle (``"@name"``, lower case) an identifier names — a handle or a profile URL; None if neither."""
    text = (identifier or "").strip()
    match = _PROFILE_URL_RE.fullmatch(text)
    if match:
        text = match.group(1)
    text = text.removeprefix("@").lower()
    return f"@{text}" if HANDLE_RE.fullmatch(text) else None


def infer_category(handle: str) -> str | None:
    """The category a handle's words give away ("@lily_beauty_23" → "beauty"), or None."""
    words = [w for w in re.split(r"[_.\d]+", handle.removeprefix("@")) if w]
    for word in words:
        if word in KEYWORDS:
            return KEYWORDS[word]
    for word in words:
        for keyword in _KEYWORDS_LONGEST_FIRST:
            if len(keyword) >= 4 and keyword in word:
                return KEYWORDS[keyword]
    return None


# --- deterministic randomness -----------------------------------------------------------------------------

def _uniforms(count: int, *key: object) -> list[float]:
    """``count`` (at most 16) uniform numbers in (0, 1) that depend only on ``key``."""
    digest = blake2b("\x1f".join(map(str, key)).encode(), digest_size=4 * count).digest()
    return [(n + 0.5) * _TO_UNIT for n in struct.unpack(f">{count}I", digest)]


_TO_UNIT = 1.0 / 4294967296.0


@lru_cache(maxsize=8192)
def _block(key: str, tag: str, block: int) -> list[float]:
    return _uniforms(16, key, tag, block)


def _daily(key: str, tag: str, day: int) -> float:
    """A uniform number in (0, 1) for one day (sixteen days share one hash)."""
    return _block(key, tag, day >> 4)[day & 15]


def _normal_pair(u1: float, u2: float) -> tuple[float, float]:
    radius = math.sqrt(-2.0 * math.log(u1))
    return radius * math.cos(2 * math.pi * u2), radius * math.sin(2 * math.pi * u2)


def whole_percentages(weights: dict[str, float]) -> dict[str, int]:
    """Whole percentages of the weights' total, summing to exactly 100 (largest remainder), keys kept."""
    total = sum(weights.values()) or 1.0
    exact = {k: 100.0 * v / total for k, v in weights.items()}
    result = {k: int(v) for k, v in exact.items()}
    short = 100 - sum(result.values())
    for k in sorted(exact, key=lambda k: exact[k] - result[k], reverse=True)[:short]:
        result[k] += 1
    return result


# --- an account's fixed traits ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Account:
    key: str  # "seed:handle", the root of every hash about this account
    handle: str
    display_name: str
    category: str
    second_category: str
    fraud: str | None
    followers_at_reference: float  # real followers on REFERENCE_DAY
    growth: float  # daily log growth of real followers
    reach: float  # this account's reach relative to its category's
    like: float
    comment: float
    share: float
    post_chance: float  # chance of posting on a day
    audience: dict
    # bought followers: multiple right after a purchase, days between purchases, phase, purge time constant
    inflation: float = 1.0
    purchase_every: int = 0
    purchase_phase: int = 0
    purge_days: float = 1.0
    like_factor: float = 1.0  # bought likes

    def fake_share(self, day: int) -> float:
        """Fake followers per real follower on ``day`` (0 for honest accounts)."""
        if self.fraud != "bought_followers":
            return 0.0
        since_purchase = (day - self.purchase_phase) % self.purchase_every
        return (self.inflation - 1.0) * math.exp(-since_purchase / self.purge_days)

    def virals(self, until_day: int) -> dict[int, float]:
        """Organic jumps from REFERENCE_DAY up to ``until_day``: the day a video took off → followers gained
        (a share, 4–12 %, coming in over three days)."""
        if self.fraud is not None or until_day < REFERENCE_DAY:
            return {}
        found = {}
        for block in range((until_day - REFERENCE_DAY) // 30 + 1):
            u = _uniforms(3, self.key, "viral", block)
            if u[0] < 0.15:
                found[REFERENCE_DAY + block * 30 + int(u[1] * 30)] = 0.04 + 0.08 * u[2]
        return found

    def real_followers(self, day: int, virals: dict[int, float]) -> float:
        trend = self.followers_at_reference * math.exp(self.growth * (day - REFERENCE_DAY))
        for viral_day, gain in virals.items():
            if day >= viral_day:
                trend *= 1.0 + gain * (0.5, 0.8, 1.0)[min(day - viral_day, 2)]
        return trend * (1.0 + 0.0017 * (_daily(self.key, "f", day) - 0.5))  # day-to-day noise, sd 0.05 %

    def followers(self, day: int, virals: dict[int, float]) -> int:
        real = self.real_followers(day, virals)
        return max(0, round(real * (1.0 + self.fake_share(day))))


def _draw_audience(rng: random.Random, model: CategoryModel, category: str) -> dict:
    female = min(0.97, max(0.03, rng.gauss(model.female, 0.07)))
    gender = whole_percentages({"female": female, "male": 1 - female})
    age = whole_percentages({band: w * rng.lognormvariate(0, 0.3) for band, w in zip(AGE_BANDS, model.age, strict=True)})
    home = rng.choices(list(PROVINCE_WEIGHTS), weights=list(PROVINCE_WEIGHTS.values()))[0]
    weights = {}
    for code, weight in PROVINCE_WEIGHTS.items():
        weight *= rng.lognormvariate(0, 0.25)
        if category in _URBAN and code in _URBAN_PROVINCES:
            weight *= 1.6
        if code == home:
            weight *= 4.0
        weights[code] = weight
    top = sorted(weights, key=weights.__getitem__, reverse=True)[:8]
    provinces = whole_percentages({**{code: weights[code] for code in top},
                                   "other": sum(w for c, w in weights.items() if c not in top)})
    return {"gender": gender, "age": age, "provinces": provinces}


def _display_name(handle: str) -> str:
    words = [w for w in re.split(r"[_.\d]+", handle.removeprefix("@")) if w]
    return " ".join(w.capitalize() for w in words[:3]) or handle


@lru_cache(maxsize=4096)
def _account(seed: int, handle: str) -> Account:
    key = f"{seed}:{handle}"
    rng = random.Random(blake2b(key.encode(), digest_size=16).digest())
    bare = handle.removeprefix("@")
    if bare.startswith(FAKE_FOLLOWERS_PREFIX):
        fraud: str | None = "bought_followers"
    elif bare.startswith(FAKE_LIKES_PREFIX):
        fraud = "bought_likes"
    else:
        draw = _uniforms(1, key, "fraud")[0]
        fraud = ("bought_followers" if draw < BOUGHT_FOLLOWERS_SHARE
                 else "bought_likes" if draw < BOUGHT_FOLLOWERS_SHARE + BOUGHT_LIKES_SHARE else None)
    category = infer_category(handle) or rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
    second = rng.choice([c for c in CATEGORIES if c != category])
    model = MODELS[category]
    extra = {}
    if fraud == "bought_followers":
        extra = {"inflation": rng.uniform(3.0, 10.0), "purchase_every": rng.randint(35, 60),
                 "purchase_phase": rng.randrange(60), "purge_days": rng.uniform(60.0, 150.0)}
    elif fraud == "bought_likes":
        extra = {"like_factor": rng.uniform(4.0, 10.0)}
    return Account(
        key=key, handle=handle, display_name=_display_name(handle), category=category, second_category=second,
        fraud=fraud,
        followers_at_reference=min(30_000_000.0, max(300.0, rng.lognormvariate(math.log(20_000), 1.4))),
        growth=min(0.004, max(-0.001, rng.gauss(0.0008, 0.0010))),
        reach=rng.lognormvariate(0, 0.35), like=rng.lognormvariate(0, 0.25),
        comment=rng.lognormvariate(0, 0.3), share=rng.lognormvariate(0, 0.3),
        post_chance=rng.uniform(0.15, 0.9), audience=_draw_audience(rng, model, category), **extra,
    )


def _reach(norm: Norm, followers: float) -> float:
    """Median plays per follower: a category's reach, higher for small accounts, lower for big ones."""
    return norm.reach * (max(followers, 100.0) / 100_000.0) ** -0.2


class SandboxPlatform(PlatformConnector):
    """The deterministic simulator (see the module docstring)."""

    name = PLATFORM

    def __init__(self, seed: int = 2026):
        self.seed = int(seed)

    # --- accounts ---------------------------------------------------------------------------------------

    def _known(self, external_id: str) -> Account:
        handle = normalize_handle(external_id)
        if handle is None or handle.removeprefix("@") != external_id:
            raise LookupError(f"no sandbox account {external_id!r}")
        return _account(self.seed, handle)

    def lookup_account(self, identifier: str) -> AccountInfo | None:
        handle = normalize_handle(identifier)
        if handle is None:
            return None
        account = _account(self.seed, handle)
        return AccountInfo(external_id=handle.removeprefix("@"), handle=handle,
                           display_name=account.display_name, platform=PLATFORM)

    def is_known_fraudulent(self, handle: str) -> str | None:
        """"bought_followers", "bought_likes" or None: the ground truth, for tests and demos."""
        normalized = normalize_handle(handle)
        return None if normalized is None else _account(self.seed, normalized).fraud

    def category_of(self, handle: str) -> str:
        """The category the sandbox gives the account (what most of its works are about)."""
        normalized = normalize_handle(handle)
        if normalized is None:
            raise LookupError(f"no sandbox account {handle!r}")
        return _account(self.seed, normalized).category

    def account_stats(self, external_id: str, *, now: datetime | None = None) -> AccountStats:
        account = self._known(external_id)
        now = _aware(now)
        today = now.date().toordinal()
        virals = account.virals(today)
        history = [(date.fromordinal(day), account.followers(day, virals))
                   for day in range(today - HISTORY_DAYS + 1, today + 1)]
        works = self._recent(account, 30, now, virals)
        plays = sum(w.plays for w in works)
        interactions = sum(w.likes + w.comments + w.shares for w in works)
        return AccountStats(
            followers=history[-1][1],
            avg_plays=round(plays / len(works)) if works else 0,
            engagement_bp=round(10_000 * interactions / plays) if plays else 0,
            audience={part: dict(split) for part, split in account.audience.items()},
            follower_history=history,
        )

    # --- works ------------------------------------------------------------------------------------------

    def list_works(self, external_id: str, limit: int = 30, *, now: datetime | None = None) -> list[WorkInfo]:
        account = self._known(external_id)
        now = _aware(now)
        return self._works(account, limit, now, account.virals(now.date().toordinal()))

    def lookup_work(self, url: str, *, now: datetime | None = None) -> WorkInfo | None:
        match = _WORK_URL_RE.fullmatch((url or "").strip())
        handle = normalize_handle(match.group(1)) if match else None
        if handle is None:
            return None
        code = match.group(2)
        day, index = int(code[:6]), int(code[6])
        account = _account(self.seed, handle)
        now = _aware(now)
        virals = account.virals(now.date().toordinal())
        if index >= self._posts_on(account, day, virals):
            return None
        numbers = self._numbers(account, day, index, now.timestamp(), virals)
        work = self._work(account, numbers)
        return work if work.url.endswith(code) and work.published_at <= now else None

    def _posts_on(self, account: Account, day: int, virals: dict[int, float]) -> int:
        u = _daily(account.key, "p", day)
        if u >= account.post_chance:
            return 1 if day in virals else 0
        return 2 if u < 0.15 * account.post_chance else 1

    def _works(self, account: Account, limit: int, now: datetime, virals: dict[int, float]) -> list[WorkInfo]:
        return [self._work(account, numbers) for numbers in self._recent(account, limit, now, virals)]

    def _recent(self, account: Account, limit: int, now: datetime, virals: dict[int, float]) -> list[_Numbers]:
        """The numbers of the ``limit`` most recent works published by ``now``, newest first."""
        found: list[_Numbers] = []
        now_ts = now.timestamp()
        today = now.date().toordinal()
        for day in range(today, today - MAX_LOOKBACK_DAYS, -1):
            posts = [self._numbers(account, day, index, now_ts, virals)
                     for index in range(self._posts_on(account, day, virals))]
            for numbers in sorted(posts, key=lambda n: n.published_ts, reverse=True):
                if numbers.published_ts <= now_ts:
                    found.append(numbers)
                    if len(found) >= limit:
                        return found
        return found

    def _numbers(self, account: Account, day: int, index: int, now_ts: float, virals: dict[int, float]) -> _Numbers:
        u = _uniforms(7, account.key, "w", day, index)
        category = account.second_category if u[5] < 0.15 else account.category
        norm = NORMS[category]
        # published between 08:00 and 24:00 Beijing time
        published_ts = (day - _UNIX_DAY) * 86400.0 + int(u[0] * 16 * 3600) + index * 3600
        grown = 1.0 - math.exp(-max(0.0, now_ts - published_ts) / (1.5 * 86400))  # plays come in over days

        real = account.real_followers(day, virals)
        z_plays, z_like = _normal_pair(u[1], u[2])
        z_comment, z_share = _normal_pair(u[3], u[4])
        median_plays = real * _reach(norm, real) * account.reach
        final_plays = median_plays * math.exp(0.6 * z_plays)
        if index == 0 and day in virals:
            final_plays = median_plays * (10 + 20 * u[6])  # the hit behind an organic jump
        real_plays = final_plays * grown
        real_likes = real_plays * norm.like_play * account.like * math.exp(0.2 * z_like)
        comments = real_likes * norm.comment_like * account.comment * math.exp(0.25 * z_comment)
        shares = real_likes * norm.share_like * account.share * math.exp(0.25 * z_share)
        bot_plays = real * account.fake_share(day) * 0.03 * grown
        return _Numbers(day, index, category, published_ts, now_ts, round(real_plays + bot_plays),
                        round(real_likes * account.like_factor), round(comments), round(shares))

    def _work(self, account: Account, n: _Numbers) -> WorkInfo:
        model = MODELS[n.category]
        u = _uniforms(6, account.key, "w+", n.day, n.index)  # what the statistics do not need
        code = f"{n.day:06d}{n.index}{int(u[0] * 65536):04x}"
        duration = int(300 + u[2] * 1200) if u[1] < model.long_share else int(15 + u[2] ** 2 * 165)
        title = model.titles[int(u[3] * len(model.titles))].format(n=2 + int(u[4] * 9))
        bare = account.handle.removeprefix("@")
        return WorkInfo(
            external_id=f"{bare}:{code}", url=f"https://{HOST}/{account.handle}/v/{code}", title=title,
            category=n.category, published_at=datetime.fromtimestamp(n.published_ts, UTC), duration_s=duration,
            plays=n.plays, likes=n.likes, comments=n.comments, shares=n.shares,
            is_live=not (u[5] < 0.015 and n.now_ts - n.published_ts > 2 * 86400), owner_external_id=bare,
        )


class _Numbers(NamedTuple):
    day: int
    index: int
    category: str
    published_ts: float
    now_ts: float
    plays: int
    likes: int
    comments: int
    shares: int


_UNIX_DAY = date(1970, 1, 1).toordinal()


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    return now.astimezone(UTC)
