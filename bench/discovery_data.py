"""Data generator for the discovery benchmark: creators at scale, with their users, categories, regions, platform
accounts, rate cards, works and follower snapshots, written fast (PostgreSQL ``COPY``; SQLite ``executemany``
in one big transaction) and indexed for search with the app's own ``build_document``.

Values are drawn to look like the real population, so that keyword hit rates and filter selectivities are
realistic: Chinese nicknames and bios composed from a per-category vocabulary (a beauty creator's bio says
护肤 or 彩妆 more often than 露营), heavy-tailed followers (log-normal, a few accounts with millions), engagement
and audience splits that vary by category, provinces weighted by population, ~70 % accepting orders, ~40 %
real-name verified, a minority with low authenticity, prices roughly proportional to reach.

``generate(url, first, count)`` appends creators ``first .. first+count-1`` (so the benchmark can measure at
10k, then grow the same database to 100k); everything is deterministic for a given range.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from marketplace.creators.search_index import build_document, creator_tokens, facets_of, token_rows
from marketplace.models import metadata

WORKS_PER_CREATOR = 10
SNAPSHOTS_PER_CREATOR = 12  # weekly
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

VOCABULARY = {
    "beauty": "美妆 护肤 彩妆 口红 粉底 眼影 测评 敏感肌 素颜 化妆教程 好物分享 平价替代 香水 美甲 防晒 精华",
    "fashion": "穿搭 时尚 街拍 ootd 搭配 小个子穿搭 通勤 复古 包包 配饰 显瘦 秋冬穿搭 设计师",
    "food": "美食 探店 家常菜 烘焙 甜品 火锅 小吃 食谱 减脂餐 咖啡 夜宵 川菜 早餐 吃播",
    "travel": "旅行 自驾 攻略 民宿 徒步 露营 vlog 打卡 海岛 古镇 酒店测评 城市漫游 摄影",
    "tech": "数码 科技 手机 测评 开箱 电脑 耳机 智能家居 相机 评测 新品 效率工具",
    "gaming": "游戏 电竞 手游 王者荣耀 原神 攻略 直播 主机游戏 单机 二次元 游戏解说",
    "parenting": "育儿 母婴 宝宝 亲子 辅食 早教 孕期 二胎 儿童绘本 宝妈",
    "fitness": "健身 减脂 瑜伽 跑步 增肌 普拉提 体态 马拉松 健康饮食 居家锻炼",
    "home": "家居 收纳 装修 改造 租房 好物 软装 极简 家电 清洁",
    "pets": "萌宠 猫咪 狗狗 铲屎官 宠物 布偶猫 柯基 养猫 宠物用品",
    "auto": "汽车 新能源 试驾 用车 改装 电动车 自驾游 车评",
    "education": "学习 考研 英语 职场 读书 知识分享 留学 高考 编程",
    "finance": "理财 基金 存钱 财经 副业 保险 记账 投资",
    "music": "音乐 翻唱 吉他 原创 钢琴 唱歌 乐队 民谣",
    "comedy": "搞笑 段子 情景剧 脱口秀 整活 沙雕 日常搞笑",
    "lifestyle": "生活 日常 vlog 记录 独居 治愈 周末 好物 自律",
}
VOCABULARY = {k: v.split() for k, v in VOCABULARY.items()}
GENERIC = "分享 日常 记录 喜欢 关注 合作 商务合作 欢迎 每天更新 真实 用心 专业 宝藏 干货 私信 一起 快乐 成长 热爱".split()
ENGLISH = "vlog daily life share love beauty travel foodie tech fitness music style home cat dog".split()
CATEGORY_WEIGHTS = {"beauty": 14, "fashion": 10, "food": 13, "travel": 8, "tech": 6, "gaming": 7, "parenting": 6,
                    "fitness": 6, "home": 5, "pets": 6, "auto": 4, "education": 5, "finance": 3, "music": 4,
                    "comedy": 5, "lifestyle": 10}
FEMALE_SHARE = {"beauty": 82, "fashion": 75, "parenting": 80, "gaming": 28, "auto": 25, "tech": 35, "finance": 45,
                "fitness": 55, "food": 58, "home": 65}
REGION_WEIGHTS = {"44": 126, "37": 101, "41": 99, "51": 84, "32": 85, "13": 75, "43": 66, "34": 61, "42": 58,
                  "33": 65, "45": 50, "53": 47, "36": 45, "21": 43, "35": 41, "61": 40, "23": 32, "14": 35,
                  "52": 39, "50": 32, "22": 24, "62": 25, "15": 24, "65": 26, "31": 25, "11": 22, "12": 14,
                  "46": 10, "64": 7, "63": 6, "54": 4, "81": 7, "82": 1, "71": 2}
AGE_BANDS = ("18-23", "24-30", "31-40", "41-50", "50+")
NAME_HEADS = "小 阿 大 老 萌 甜 酷 胖 懒 野 金 糖 橙 桃 鹿 鱼 米 豆 乐 安 可 若 星 月 云 晴 雪 风 夏 秋".split()
NAME_CORES = "鹿 鱼 米 糖 豆 桃 橘 兔 熊 猫 喵 柚 栗 琪 琳 悦 晨 宁 菲 瑶 森 阳 宇 航 哲 凯 妮 娜 薇 彤".split()
NAME_TAILS = ["", "", "酱", "子", "同学", "姐姐", "哥哥", "的日常", "爱生活", "在路上", "不加糖", "Official", "Studio"]
SYLLABLES = "xiao lu yu mi tang dou tao ju tu xiong mao you li qi lin yue chen ning fei yao sen yang hang zhe kai " \
            "ni na wei tong an le ke ruo xing yun qing xue feng xia qiu".split()


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _bio(rng: random.Random, categories: list[str]) -> str:
    words = []
    for _ in range(rng.randint(4, 8)):
        pool = VOCABULARY[rng.choice(categories)] if rng.random() < 0.65 else GENERIC
        words.append(rng.choice(pool))
    if rng.random() < 0.3:
        words.append(rng.choice(ENGLISH))
    separators = ["｜", " ", "，", " · ", "/"]
    return rng.choice(separators).join(words) + rng.choice(["", "～", "！", "。", " 商务合作请私信"])


def creator_rows(first: int, count: int, user_id0: int) -> Iterator[dict]:
    """Creators ``first..first+count-1`` with their related rows (a dict of lists per creator)."""
    for n in range(first, first + count):
        rng = random.Random(n * 7919 + 17)
        primary = _weighted(rng, CATEGORY_WEIGHTS)
        categories = [primary] + ([_weighted(rng, CATEGORY_WEIGHTS)] if rng.random() < 0.45 else [])
        categories = list(dict.fromkeys(categories))
        regions = list(dict.fromkeys([_weighted(rng, REGION_WEIGHTS) for _ in range(1 if rng.random() < 0.8 else 2)]))
        name = rng.choice(NAME_HEADS) + rng.choice(NAME_CORES) + rng.choice(NAME_TAILS)
        if rng.random() < 0.3:
            name += rng.choice(VOCABULARY[primary])[:2]
        handle = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))) + str(n)
        followers = int(min(50_000_000, max(300, rng.lognormvariate(math.log(18_000), 1.7))))
        bought = rng.random() < 0.08
        engagement_bp = int(max(10, rng.lognormvariate(math.log(320 if not bought else 60), 0.55)))
        avg_plays = int(followers * rng.uniform(0.05, 0.6) * (0.3 if bought else 1))
        female = max(3, min(97, int(rng.gauss(FEMALE_SHARE.get(primary, 52), 9))))
        ages = [rng.random() for _ in AGE_BANDS]
        ages[1] += 0.6
        ages[0] += 0.3
        total = sum(ages)
        age_pct = [round(a / total * 100) for a in ages]
        main_age = AGE_BANDS[age_pct.index(max(age_pct))]
        base = max(20_000, followers * rng.uniform(0.8, 2.5)) // 100 * 100  # fen: ~1–2.5 fen per follower
        prices = {
            "short_video": int(base),
            "long_video": int(base * 1.6) if rng.random() < 0.6 else None,
            "livestream": int(base * 3) if rng.random() < 0.4 else None,
            "image_text": int(base * 0.6) if rng.random() < 0.7 else None,
        }
        created = NOW - timedelta(days=rng.randint(30, 900))
        rated = rng.random() < 0.3
        yield {
            "user": {"id": user_id0 + n, "email": f"bench-creator-{n}@example.com", "password_hash": "!",
                     "display_name": name, "signup_kind": "creator", "email_verified_at": created,
                     "created_at": created},
            "creator": {
                "id": n, "user_id": user_id0 + n, "display_name": name, "kind": "individual", "handle": handle,
                "bio": _bio(rng, categories), "languages": json.dumps(["zh"]),
                "accepting_orders": rng.random() < 0.7, "listed": rng.random() < 0.97,
                "identity_verified_at": created + timedelta(days=3) if rng.random() < 0.4 else None,
                "followers": followers, "avg_plays": avg_plays, "engagement_bp": engagement_bp,
                "audience": json.dumps({"gender": {"female": female, "male": 100 - female},
                                        "age": dict(zip(AGE_BANDS, age_pct, strict=True)),
                                        "provinces": {regions[0]: 35, "other": 65}}),
                "audience_female_pct": female, "audience_main_age": main_age,
                "authenticity_score": rng.randint(20, 55) if bought else rng.randint(70, 100),
                "authenticity_reasons": json.dumps([]),
                "rating_avg_x100": rng.randint(350, 500) if rated else None, "rating_count": rng.randint(1, 40) if rated else 0,
                "rate_card_version_id": n, **{f"price_{k}": v for k, v in prices.items()},
                "stats_refreshed_at": NOW, "created_at": created, "updated_at": NOW,
            },
            "categories": categories, "regions": regions, "prices": prices,
            "works": [_work(rng, n, k, primary, avg_plays, engagement_bp) for k in range(WORKS_PER_CREATOR)],
            "snapshots": [(NOW.date() - timedelta(days=7 * w), int(followers * (1 - 0.01 * w * rng.random())))
                          for w in range(SNAPSHOTS_PER_CREATOR)],
            "rng_tail": rng.random(),
        }


def _work(rng: random.Random, n: int, k: int, category: str, avg_plays: int, engagement_bp: int) -> dict:
    plays = int(max(50, rng.lognormvariate(math.log(max(avg_plays, 100)), 0.9)))
    interactions = plays * engagement_bp // 10_000
    likes = int(interactions * 0.85)
    words = VOCABULARY[category]
    return {"platform": "sandbox", "external_id": f"{n:07d}{k:04x}",
            "url": f"https://sandbox.video/@c{n}/v/{n:07d}{k:04x}",
            "title": "".join(rng.choice(words) for _ in range(2)) + rng.choice(GENERIC),
            "category": category, "published_at": NOW - timedelta(days=k * 4 + rng.randint(0, 3), hours=rng.randint(0, 23)),
            "duration_s": rng.randint(15, 600), "plays": plays, "likes": likes,
            "comments": int(interactions * 0.1), "shares": interactions - likes - int(interactions * 0.1),
            "is_live": True, "refreshed_at": NOW}


# --- writing -------------------------------------------------------------------------------------------


def _defaults(table_name: str) -> dict:
    """Every column of the table that may be left out, at its model default (so new columns don't break this)."""
    row = {}
    for column in metadata.tables[table_name].columns:
        if column.default is not None and column.default.is_scalar:
            row[column.name] = column.default.arg
        elif column.default is not None and column.default.is_callable:
            row[column.name] = column.default.arg(None)
        elif column.nullable or column.primary_key:
            row[column.name] = None
        else:
            continue
        if isinstance(row[column.name], list | dict):
            row[column.name] = json.dumps(row[column.name])
    return row


def batches(first: int, count: int, user_id0: int) -> dict[str, list[tuple]]:
    """Every row to write, per table, as tuples in the table's column order (ids chosen here)."""
    out: dict[str, list] = {name: [] for name in ("users", "creators", "creator_categories", "creator_regions",
                                                  "platform_accounts", "rate_card_versions", "rate_card_prices",
                                                  "works", "creator_stat_snapshots", "creator_search")}
    columns = {name: [c.name for c in metadata.tables[name].columns] for name in out}
    out["creator_tokens"] = []  # the token index: not a model (its DDL differs per backend)
    columns["creator_tokens"] = [c.name for c in creator_tokens.columns]
    defaults: dict[str, dict] = {}

    def add(table: str, values: dict) -> None:
        if table not in defaults:
            defaults[table] = _defaults(table)
            missing = set(columns[table]) - set(defaults[table]) - set(values)
            if missing:
                raise RuntimeError(f"bench generator: no value for {table}.{sorted(missing)}")
        row = {**defaults[table], **values}
        out[table].append(tuple(row[c] for c in columns[table]))

    work_id = first * WORKS_PER_CREATOR
    snap_id = first * SNAPSHOTS_PER_CREATOR
    for item in creator_rows(first, count, user_id0):
        n = item["creator"]["id"]
        add("users", item["user"])
        add("creators", item["creator"])
        for code in item["categories"]:
            add("creator_categories", {"creator_id": n, "category": code})
        for code in item["regions"]:
            add("creator_regions", {"creator_id": n, "region": code})
        add("platform_accounts", {"id": n, "creator_id": n, "platform": "sandbox", "external_id": f"acct{n}",
                                  "handle": item["creator"]["handle"], "linked_at": item["creator"]["created_at"],
                                  "refreshed_at": NOW})
        add("rate_card_versions", {"id": n, "creator_id": n, "version": 1, "revision_rounds": 2,
                                   "lead_time_days": 7, "notes": "", "currency": "CNY", "created_at": NOW})
        for content_type, price in item["prices"].items():
            if price is not None:
                add("rate_card_prices", {"version_id": n, "content_type": content_type, "price": price})
        for work in item["works"]:
            work_id += 1
            add("works", {"id": work_id, "creator_id": n, **work})
        for taken_on, followers in item["snapshots"]:
            snap_id += 1
            add("creator_stat_snapshots", {"id": snap_id, "creator_id": n, "taken_on": taken_on,
                                           "followers": followers, "avg_plays": item["creator"]["avg_plays"],
                                           "engagement_bp": item["creator"]["engagement_bp"]})
        c = item["creator"]
        facets = facets_of(SimpleNamespace(**c))
        document = build_document(c["display_name"], c["handle"], c["bio"], item["categories"], item["regions"])
        add("creator_search", {"creator_id": n, **facets, **document})
        out["creator_tokens"] += [tuple(row[name] for name in columns["creator_tokens"])
                                  for row in token_rows(n, document, facets, item["categories"], item["regions"])]
    return {"rows": out, "columns": columns}


TABLE_ORDER = ("users", "rate_card_versions", "creators", "creator_categories", "creator_regions",
               "platform_accounts", "rate_card_prices", "works", "creator_stat_snapshots", "creator_search",
               "creator_tokens")


CHUNK = 10_000


def generate(url: str, first: int, count: int, user_id0: int = 10_000_000, log=print) -> dict[str, float]:
    """Append creators ``first .. first+count-1`` (and their rows) to the database at ``url``, in chunks."""
    started = time.perf_counter()
    build = 0.0
    writer = _SqliteWriter(url.split("///", 1)[1]) if url.startswith("sqlite") else _PostgresWriter(url)
    rows = 0
    try:
        for start in range(first, first + count, CHUNK):
            t = time.perf_counter()
            data = batches(start, min(CHUNK, first + count - start), user_id0)
            build += time.perf_counter() - t
            rows += sum(len(v) for v in data["rows"].values())
            writer.write(data)
        writer.finish()
    finally:
        writer.close()
    total = time.perf_counter() - started
    log(f"# generated creators {first}..{first + count - 1}: {rows:,} rows in {total:.1f}s "
        f"({build:.1f}s building them in Python)")
    return {"seconds": total, "rows": rows}


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return value


class _SqliteWriter:
    """One transaction for the whole load; the search rows fill the FTS5 indexes through their triggers."""

    def __init__(self, path: str):
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA foreign_keys=OFF")  # rows come in dependency order; the rate card FK is circular
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA cache_size=-200000")
        self.connection.execute("BEGIN")

    def write(self, data) -> None:
        for table in TABLE_ORDER:
            columns = data["columns"][table]
            rows = [tuple(_sqlite_value(v) for v in row) for row in data["rows"][table]]
            self.connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)

    def finish(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.execute("INSERT INTO creator_search_trgm(creator_search_trgm) VALUES ('optimize')")
        self.connection.execute("INSERT INTO creator_search_tokens(creator_search_tokens) VALUES ('optimize')")
        self.connection.execute("ANALYZE")

    def close(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        self.connection.close()


class _PostgresWriter:
    """COPY per table and chunk, in one transaction; sequences moved past the ids used; then VACUUM ANALYZE."""

    def __init__(self, url: str):
        import psycopg

        self.connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        self.cursor = self.connection.cursor()
        self.cursor.execute("SET session_replication_role = replica")  # the rate card FK is circular: no FK triggers
        self.cursor.execute("SET maintenance_work_mem = '256MB'")

    def write(self, data) -> None:
        for table in TABLE_ORDER:
            columns = data["columns"][table]
            with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in data["rows"][table]:
                    copy.write_row(row)

    def finish(self) -> None:
        self.cursor.execute("SET session_replication_role = DEFAULT")
        for table in ("users", "creators", "platform_accounts", "rate_card_versions", "works",
                      "creator_stat_snapshots"):
            self.cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        self.connection.commit()
        self.connection.autocommit = True
        self.connection.execute("VACUUM ANALYZE")

    def close(self) -> None:
        self.connection.close()
