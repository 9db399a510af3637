"""Data generator for the order-taking benchmark: enterprises, creators and orders at scale, written fast
(PostgreSQL ``COPY``; SQLite ``executemany`` in one big transaction).

The population looks like a real marketplace's, so that the board's and the list's index walks meet what they
would meet in production:
- **enterprises**: ``Population.enterprises`` verified brands (each with an owner user and membership); enterprise 1 is the
  benchmark's brand, created by ``bench.orders.prepare`` through the services so its owner can sign in;
- **creators**: the discovery generator's creators (``bench.discovery_data.batches``: users, profiles,
  categories, regions, platform accounts, rate cards), without their works, snapshots and search rows, which
  the order pages never read;
- **orders**: how many a brand has follows a Zipf-like law over the enterprises (a few brands with tens of
  thousands of orders, a long tail with a handful), and creators are chosen by a heavy-tailed popularity;
  ages spread over two years with more recent activity; the state depends on the age (recent orders are
  offered / being delivered, old ones closed, declined, expired, cancelled, resolved), with every clock and
  money column consistent with the state; prices log-normal around ¥2,000 with the default fee rates.

Two populations are fixed whatever the total, so that growing the table changes nothing but its size:
``Population.big_brand_orders`` orders of enterprise 1 (the board measured), and ``big_creator_orders`` orders
of creator 1 (the list measured), the first order ids. ``generate_orders(url, first, count)`` appends the
tail's orders ``first .. first+count-1``, deterministically for a given range.
"""

from __future__ import annotations

import bisect
import math
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.discovery_data import NOW, _defaults, _sqlite_value, batches
from marketplace.models import metadata
from marketplace.seed import make_uscc

BIG_BRAND = 1  # the benchmark's brand (created by bench.orders.prepare)
BIG_CREATOR = 1  # the benchmark's creator (a generated one; bench.orders gives its user a password)


@dataclass(frozen=True)
class Population:
    """How many enterprises and creators, and the fixed order counts of the big brand and the big creator.
    Order ids are the generator's indexes from 1: the big brand's orders, the big creator's, then the tail."""

    enterprises: int = 10_000
    creators: int = 100_000
    big_brand_orders: int = 50_000
    big_creator_orders: int = 2_000

    @property
    def fixed_orders(self) -> int:
        return self.big_brand_orders + self.big_creator_orders


PRODUCTION = Population()
ENTERPRISE_USER_ID0 = 20_000_000  # owner of enterprise e has user id ENTERPRISE_USER_ID0 + e
CREATOR_USER_ID0 = 10_000_000  # as bench.discovery_data
ZIPF_OFFSET = 3  # brand of rank r gets a share ∝ 1 / (r + ZIPF_OFFSET): at 1M orders the biggest has ~30k
SERVICE_FEE_BP, COMMISSION_BP, RETENTION_BP = 500, 500, 2000
CHUNK = 50_000

CITIES = "上海 北京 深圳 广州 杭州 成都 南京 武汉 西安 苏州 厦门 长沙 重庆 青岛 天津".split()
BRAND_HEADS = "花 雪 云 星 月 森 海 山 竹 禾 橙 青 白 金 玉 锦 悦 然 初 素 小 大 新 优 美 乐 安 康 和 盛".split()
BRAND_TAILS = "颜 肌 妆 语 品 选 坊 集 家 物 研 味 食 茶 咖 宠 动 衣 鞋 居 厨 车 游 学 育 乐 饮 护".split()
INDUSTRIES = ("化妆品", "食品", "服饰", "数码科技", "母婴用品", "运动用品", "家居用品", "宠物用品", "饮料", "文化传媒")
PRODUCTS = "精华 面霜 口红 粉底 防晒 香水 零食 咖啡 茶饮 火锅底料 耳机 手机壳 运动鞋 卫衣 猫粮 奶粉 扫地机 台灯 背包 洗发水".split()
FORMATS = ("测评", "开箱", "试用", "种草", "教程", "探店", "vlog", "挑战", "合集", "对比")
CONTENT_TYPES = {"short_video": 60, "image_text": 20, "long_video": 12, "livestream": 8}

# State by age of the order (days): offers live 72 h; delivery takes days to weeks; then completed for the
# live window; old orders are closed, or ended without delivery.
RECENT_STATES = {"offered": 45, "in_progress": 25, "declined": 12, "withdrawn": 3, "draft_submitted": 10,
                 "cancelled": 2, "revision_requested": 3}  # under 3 days
ACTIVE_STATES = {"in_progress": 16, "draft_submitted": 9, "revision_requested": 5, "draft_approved": 6,
                 "published": 7, "completed": 30, "disputed": 2, "cancelled": 4, "declined": 10, "expired": 8,
                 "withdrawn": 3}  # 3–45 days
OLD_STATES = {"closed": 70, "resolved": 2, "declined": 11, "expired": 8, "withdrawn": 3, "cancelled": 5,
              "disputed": 0.2, "completed": 0.8}  # over 45 days


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Popularity:
    """Draw brands (Zipf-like over ranks, ranks shuffled over the ids) and creators (heavy-tailed)."""

    def __init__(self, population: Population) -> None:
        self.creators = population.creators
        rng = random.Random(4242)
        brands = list(range(2, population.enterprises + 1))
        rng.shuffle(brands)
        self.brands = brands
        weights = [1 / (rank + ZIPF_OFFSET) for rank in range(1, len(brands) + 1)]
        total = sum(weights)
        self.brand_cum = list(_cumulative([w / total for w in weights]))

    def brand(self, rng: random.Random) -> int:
        return self.brands[min(len(self.brands) - 1, bisect.bisect_left(self.brand_cum, rng.random()))]

    def creator(self, rng: random.Random) -> int:
        """Creators 2..creators; popularity ∝ rank^-0.6 (at 1M orders the most popular has ~3,000, the median
        a few), ranks spread over the ids."""
        span = (self.creators - 1) ** 0.4 - 1
        rank = int((1 + rng.random() * span) ** 2.5)  # inverse of the continuous CDF (r^0.4 - 1) / span
        return 2 + (rank * 7919) % (self.creators - 1)


def _cumulative(values):
    acc = 0.0
    for v in values:
        acc += v
        yield acc


def enterprise_rows(first: int, count: int) -> dict[str, list[dict]]:
    """Enterprises ``first..first+count-1`` with their owner users and memberships."""
    out: dict[str, list[dict]] = {"users": [], "enterprises": [], "memberships": []}
    for e in range(first, first + count):
        rng = random.Random(e * 104729 + 3)
        name = rng.choice(BRAND_HEADS) + rng.choice(BRAND_TAILS) + rng.choice(BRAND_TAILS)
        industry = rng.choice(INDUSTRIES)
        legal = f"{rng.choice(CITIES)}{name}{industry}有限公司"
        created = NOW - timedelta(days=rng.randint(40, 1000))
        user_id = ENTERPRISE_USER_ID0 + e
        email = f"bench-brand-{e}@example.com"
        out["users"].append({"id": user_id, "email": email, "password_hash": "!", "display_name": f"{name} 运营",
                             "signup_kind": "brand", "email_verified_at": created, "created_at": created})
        uscc = make_uscc(f"9131{e:013d}")
        out["enterprises"].append({
            "id": e, "legal_name": legal, "display_name": f"{name} {industry[:2]}", "uscc": uscc,
            "contact_name": f"{name} 运营", "contact_phone": "+86 21 5555 0000", "contact_email": email,
            "invoice_title": legal, "tax_number": uscc, "verification_state": "verified",
            "submitted_at": created + timedelta(days=1), "verified_at": created + timedelta(days=2),
            "created_by_id": user_id, "created_at": created, "updated_at": created + timedelta(days=2)})
        out["memberships"].append({"id": e, "enterprise_id": e, "user_id": user_id, "role": "owner",
                                   "created_at": created})
    return out


def _fen(amount: int, bp: int) -> int:
    quotient, remainder = divmod(amount * bp, 10000)
    return quotient + (1 if remainder * 2 >= 10000 else 0)


def order_row(n: int, enterprise_id: int, creator_id: int, rng: random.Random) -> dict:
    """Order ``n``: terms, state and clocks consistent with its age."""
    age = 730 * rng.random() ** 1.8  # days; recent orders are denser
    created = NOW - timedelta(days=age, seconds=rng.randint(0, 86399))
    if age < 3:
        state = _weighted(rng, RECENT_STATES)
    elif age < 45:
        state = _weighted(rng, ACTIVE_STATES)
    else:
        state = _weighted(rng, OLD_STATES)
    content_type = _weighted(rng, CONTENT_TYPES)
    price = int(min(500_000_00, max(300_00, rng.lognormvariate(math.log(2_000_00), 0.9)))) // 100 * 100
    live_days = 30 if rng.random() < 0.85 else 0
    commission = _fen(price, COMMISSION_BP)
    service_fee = _fen(price, SERVICE_FEE_BP)
    retention = _fen(price - commission, RETENTION_BP) if live_days else 0
    row = {
        "id": n, "enterprise_id": enterprise_id, "creator_id": creator_id, "origin": "offer",
        "title": f"{rng.choice(PRODUCTS)}{rng.choice(FORMATS)} #{n}", "brief": "按品牌简报拍摄，突出产品卖点，真实体验。",
        "content_type": content_type, "deliverables": "1 条竖版视频，含文案与封面", "currency": "CNY",
        "price": price, "service_fee": service_fee, "commission": commission, "retention": retention,
        "service_fee_bp": SERVICE_FEE_BP, "commission_bp": COMMISSION_BP,
        "retention_bp": RETENTION_BP if live_days else 0, "rate_card_version_id": creator_id,
        "revision_rounds": rng.choice((0, 1, 1, 2, 2, 3)), "revisions_used": 0, "live_days": live_days,
        "usage_rights_days": rng.choice((0, 30, 30, 90)), "publish_from": (created + timedelta(days=3)).date(),
        "publish_until": (created + timedelta(days=30)).date(), "state": state,
        "offer_expires_at": created + timedelta(hours=72), "created_by_id": ENTERPRISE_USER_ID0 + enterprise_id,
        "created_at": created, "paid_to_creator": 0, "refunded_to_brand": 0,
    }
    elapsed = min(age, 60.0)  # days the order has been moving

    def at(days: float) -> datetime:
        return min(NOW, created + timedelta(days=days))

    updated = created
    if state in ("declined", "withdrawn", "expired"):
        updated = at(3 if state == "expired" else rng.uniform(0.05, 2.9))
        row["refunded_to_brand"] = price + service_fee
    elif state != "offered":
        row["accepted_at"] = at(rng.uniform(0.05, 1.5))
        updated = row["accepted_at"]
        progressed = ("draft_submitted", "revision_requested", "draft_approved", "published", "completed", "closed",
                      "resolved", "disputed")
        if state in progressed:
            updated = at(rng.uniform(2, max(2.1, min(elapsed, 10))))
        if state == "revision_requested":
            row["revisions_used"] = 1
            row["revision_rounds"] = max(1, row["revision_rounds"])
        if state in ("published", "completed", "closed"):
            published = at(min(elapsed, rng.uniform(5, 14)))
            row.update(published_at=published, auto_confirm_at=published + timedelta(days=7),
                       work_url=f"https://sandbox.video/@c{creator_id}/v/{n:011d}",
                       work_external_id=f"c{creator_id}:{n:011d}")
            updated = published
            if state in ("completed", "closed"):
                completed = min(NOW, published + timedelta(days=rng.uniform(0.2, 7)))
                row.update(completed_at=completed, live_until=published + timedelta(days=live_days),
                           review_until=completed + timedelta(days=7),
                           paid_to_creator=price - commission - retention)
                updated = completed
                if state == "closed":
                    row["closed_at"] = max(completed, row["live_until"])
                    row["paid_to_creator"] = price - commission
                    updated = row["closed_at"]
        if state == "disputed":
            row["disputed_from"] = rng.choice(("in_progress", "draft_submitted", "published"))
        if state == "resolved":
            share = rng.choice((0, price // 2, price * 6 // 10, price))
            row["paid_to_creator"] = share - _fen(share, COMMISSION_BP)
            row["refunded_to_brand"] = price - share + service_fee - service_fee * share // price
            row["closed_at"] = updated = at(rng.uniform(10, max(10.1, min(elapsed, 30))))
        if state == "cancelled":
            row["refunded_to_brand"] = price + service_fee
            updated = at(rng.uniform(1, 3))
    row["updated_at"] = updated
    return row


def order_batch(first: int, count: int, population: Population, popularity: _Popularity) -> list[dict]:
    """Orders ``first..first+count-1``: the first ``fixed_orders`` are the big brand's and the big creator's."""
    rows = []
    for n in range(first, first + count):
        rng = random.Random(n * 6151 + 11)
        if n <= population.big_brand_orders:
            enterprise_id, creator_id = BIG_BRAND, popularity.creator(rng)
        elif n <= population.fixed_orders:
            enterprise_id, creator_id = popularity.brand(rng), BIG_CREATOR
        else:
            enterprise_id, creator_id = popularity.brand(rng), popularity.creator(rng)
        rows.append(order_row(n, enterprise_id, creator_id, rng))
    return rows


# --- writing -------------------------------------------------------------------------------------------------

PEOPLE_TABLES = ("users", "rate_card_versions", "creators", "creator_categories", "creator_regions",
                 "platform_accounts", "rate_card_prices", "enterprises", "memberships")


def _tuples(table: str, rows: list[dict]) -> tuple[list[str], list[tuple]]:
    columns = [c.name for c in metadata.tables[table].columns]
    defaults = _defaults(table)
    if rows:
        missing = set(columns) - set(defaults) - set(rows[0])
        if missing:
            raise RuntimeError(f"bench generator: no value for {table}.{sorted(missing)}")
    return columns, [tuple({**defaults, **row}.get(c) for c in columns) for row in rows]


def generate_people(url: str, population: Population = PRODUCTION, log=print) -> dict[str, float]:
    """Enterprises 2..enterprises (with owners) and creators 1..creators (as the discovery benchmark's)."""
    started = time.perf_counter()
    writer = _writer(url)
    rows = 0
    creators, enterprises = population.creators, population.enterprises
    try:
        for start in range(1, creators + 1, 10_000):
            data = batches(start, min(10_000, creators + 1 - start), CREATOR_USER_ID0)
            tables = {t: (data["columns"][t], data["rows"][t]) for t in PEOPLE_TABLES if t in data["rows"]}
            rows += writer.write(tables)
        people = enterprise_rows(2, enterprises - 1)
        rows += writer.write({t: _tuples(t, people[t]) for t in ("users", "enterprises", "memberships")})
        writer.finish(("users", "creators", "platform_accounts", "rate_card_versions", "enterprises", "memberships"))
    finally:
        writer.close()
    total = time.perf_counter() - started
    log(f"# generated {enterprises - 1:,} enterprises and {creators:,} creators: {rows:,} rows in {total:.1f}s")
    return {"seconds": total, "rows": rows}


def generate_orders(url: str, first: int, count: int, population: Population = PRODUCTION,
                    log=print) -> dict[str, float]:
    """Append orders ``first .. first+count-1`` to the database at ``url``, in chunks."""
    started = time.perf_counter()
    popularity = _Popularity(population)
    writer = _writer(url)
    build = 0.0
    try:
        for start in range(first, first + count, CHUNK):
            t = time.perf_counter()
            rows = order_batch(start, min(CHUNK, first + count - start), population, popularity)
            tables = {"orders": _tuples("orders", rows)}
            build += time.perf_counter() - t
            writer.write(tables)
        writer.finish(("orders",))
    finally:
        writer.close()
    total = time.perf_counter() - started
    log(f"# generated orders {first:,}..{first + count - 1:,} in {total:.1f}s ({build:.1f}s building them in Python)")
    return {"seconds": total, "rows": count}


def _writer(url: str):
    return _SqliteWriter(url.split("///", 1)[1]) if url.startswith("sqlite") else _PostgresWriter(url)


class _SqliteWriter:
    """One transaction for the whole load, then ANALYZE (the planner's statistics)."""

    def __init__(self, path: str):
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA foreign_keys=OFF")  # rows come in dependency order; the rate card FK is circular
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA cache_size=-400000")
        self.connection.execute("BEGIN")

    def write(self, tables: dict[str, tuple[list[str], list[tuple]]]) -> int:
        written = 0
        for table, (columns, rows) in tables.items():
            self.connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [tuple(_sqlite_value(v) for v in row) for row in rows])
            written += len(rows)
        return written

    def finish(self, _sequences) -> None:
        self.connection.execute("COMMIT")
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

    def write(self, tables: dict[str, tuple[list[str], list[tuple]]]) -> int:
        written = 0
        for table, (columns, rows) in tables.items():
            with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            written += len(rows)
        return written

    def finish(self, sequences) -> None:
        self.cursor.execute("SET session_replication_role = DEFAULT")
        for table in sequences:
            self.cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        self.connection.commit()
        self.connection.autocommit = True
        self.connection.execute("VACUUM ANALYZE")

    def close(self) -> None:
        self.connection.close()

