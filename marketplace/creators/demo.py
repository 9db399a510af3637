"""Demo creators for ``flask seed-demo``: a few hundred profiles across every category and region, each linked to
the sandbox platform (statistics and works imported through ``stats.link_platform_account``, never written by
hand) and with a current rate card (``services.save_rate_card``).

Everything is drawn from a fixed ``random.Random`` seed, so two fresh databases get the same creators; the
statistics are the sandbox's for the day the seed runs. Handles carry a category word ("@lily_beauty_23") so
the sandbox's accounts post what the profile says; a handful are the sandbox's known fakes
(``@fake_followers_…``, ``@fake_likes_…``) so the authenticity score has something to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.creators import stats
from marketplace.creators.models import Creator, CreatorCategory, CreatorRegion
from marketplace.creators.services import become_creator, save_rate_card
from marketplace.creators.taxonomy import CATEGORIES, REGIONS
from marketplace.db import utcnow
from marketplace.platform.sandbox import infer_category

DEMO_CREATORS = 300
EMAIL_DOMAIN = "creators.demo"

# (Chinese name, pinyin for the handle)
CN_NAMES = [
    ("莉莉", "lili"), ("小鹿", "xiaolu"), ("阿杰", "ajie"), ("娜娜", "nana"), ("琪琪", "qiqi"), ("大宝", "dabao"),
    ("思思", "sisi"), ("晓雨", "xiaoyu"), ("子涵", "zihan"), ("一诺", "yinuo"), ("浩然", "haoran"),
    ("佳怡", "jiayi"), ("梓萱", "zixuan"), ("欣怡", "xinyi"), ("宇轩", "yuxuan"), ("雨桐", "yutong"),
    ("可馨", "kexin"), ("若曦", "ruoxi"), ("安琪", "anqi"), ("婷婷", "tingting"), ("晨晨", "chenchen"),
    ("豆豆", "doudou"), ("阿宁", "aning"), ("老王", "laowang"), ("胖虎", "panghu"), ("阿飞", "afei"),
    ("小七", "xiaoqi"), ("糖糖", "tangtang"), ("丸子", "wanzi"), ("阿珂", "ake"), ("小满", "xiaoman"),
    ("大鹏", "dapeng"), ("一一", "yiyi"), ("阿May", "amay"), ("北北", "beibei"), ("南南", "nannan"),
]
EN_NAMES = ["Lily", "Tony", "Nana", "Yuki", "Kiki", "Coco", "Max", "Ivy", "Zoe", "Ethan", "Ray", "Sam", "Vivian",
            "Grace", "Jason", "Kevin", "Amber", "Luna", "Sunny", "Echo", "Eric", "Jenny", "Cindy", "Mandy",
            "Tina", "Alan", "Jack", "Bella", "Iris", "Owen"]

# Handle words the sandbox reads as the category, and how the category reads in a Chinese name.
CATEGORY_WORDS = {
    "beauty": (("beauty", "makeup", "meizhuang", "skincare"), ("美妆", "护肤日记", "爱化妆")),
    "fashion": (("ootd", "style", "chuanda", "fashion"), ("穿搭", "的衣橱", "时髦日记")),
    "food": (("meishi", "food", "chef", "chihuo", "cook"), ("吃遍全城", "的厨房", "探店")),
    "travel": (("travel", "lvxing", "trip"), ("去旅行", "环游记", "在路上")),
    "tech": (("tech", "keji", "shuma", "geek"), ("聊数码", "科技说", "测评室")),
    "gaming": (("game", "youxi", "gamer"), ("打游戏", "游戏解说", "上分日记")),
    "parenting": (("mama", "muying", "baba", "baby"), ("妈妈", "育儿经", "和宝宝")),
    "fitness": (("fit", "jianshen", "yoga", "gym"), ("健身", "练起来", "瑜伽")),
    "home": (("home", "jiaju", "shouna"), ("的家", "爱收纳", "家居")),
    "pets": (("cat", "dog", "mengchong", "maomi"), ("和猫", "家的狗", "萌宠日常")),
    "auto": (("car", "qiche", "shuoche"), ("说车", "玩车", "试驾")),
    "education": (("study", "english", "xuexi", "laoshi"), ("老师", "学英语", "学习笔记")),
    "finance": (("licai", "money", "caijing"), ("聊理财", "财经", "记账")),
    "music": (("music", "guitar", "changge", "piano"), ("唱歌", "弹吉他", "音乐")),
    "comedy": (("gaoxiao", "funny", "duanzi"), ("搞笑日常", "段子", "笑一笑")),
    "lifestyle": (("vlog", "daily", "shenghuo", "life"), ("的日常", "生活记录", "vlog")),
}

BIOS = {
    "beauty": ["美妆博主｜敏感肌护肤分享", "专注平价彩妆测评，每周三更新", "成分党，理性种草不踩雷",
               "前柜姐，分享实用化妆技巧", "Skincare for sensitive skin, honest reviews."],
    "fashion": ["小个子穿搭｜155也能穿出大长腿", "通勤穿搭，一周不重样", "胶囊衣橱倡导者，买少买好",
                "Everyday outfits under ¥300.", "古着爱好者，混搭实验室"],
    "food": ["成都美食探店，只说真话", "家常菜教程，零失败", "一人食｜十分钟快手菜", "Street food hunter.",
             "烘焙新手也能学会的甜点"],
    "travel": ["去过42个城市，继续出发", "小众目的地攻略", "带爸妈旅行的正确打开方式",
               "Budget travel tips across China.", "航拍｜山川湖海"],
    "tech": ["数码测评，不恰饭只说实话", "手机、耳机、桌搭", "程序员的效率工具箱", "Gadgets, honestly reviewed.",
             "智能家居折腾记录"],
    "gaming": ["王者荣耀国服选手", "单机游戏剧情解说", "独立游戏安利", "Retro games and indie gems.",
               "每晚9点直播上分"],
    "parenting": ["二胎妈妈｜育儿经验分享", "辅食、绘本、早教", "科学育儿不焦虑", "Dad of twins, sharing the chaos.",
                  "亲子手工和周末去处"],
    "fitness": ["居家健身｜不去健身房也能练", "减脂30斤的真实记录", "瑜伽老师，每天10分钟拉伸",
                "Marathon runner and coach.", "增肌餐和训练计划"],
    "home": ["出租屋改造达人", "收纳整理师", "小户型装修日记", "Cozy home ideas on a budget.", "阳台花园种植"],
    "pets": ["两只猫一只狗的日常", "新手养猫指南", "柯基的快乐生活", "Cat dad. Daily cat videos.", "科学养宠，拒绝智商税"],
    "auto": ["新能源车主，真实用车体验", "二手车避坑指南", "自驾318的老司机", "Car reviews for families.",
             "改装爱好者"],
    "education": ["英语老师｜每天一句地道口语", "考研上岸经验分享", "高效学习方法", "Math made simple.",
                  "Python 零基础入门"],
    "finance": ["月薪五千也能存下钱", "基金定投入门", "保险和理财科普", "Personal finance for young workers.",
                "记账第五年"],
    "music": ["原创音乐人", "吉他弹唱教学", "街头歌手，路人反应合集", "Piano covers of pop songs.", "每周一首翻唱"],
    "comedy": ["打工人的搞笑日常", "方言短剧", "情侣日常，笑到停不下来", "Sketch comedy, made in Chongqing.",
               "模仿秀达人"],
    "lifestyle": ["独居女孩的周末", "早起打卡第365天", "城市漫步 Citywalk", "Slow living in Dali.", "好物分享｜提升幸福感"],
}
BIO_ENDINGS = ["商务合作请站内下单", "合作请私信", "每天晚8点更新", "", "Open to brand collaborations.", ""]
NOTES = ["含1次脚本沟通，拍摄前确认brief；加急（3天内）另加30%。",
         "视频发布后保留不少于30天；二次授权投流另议。",
         "Price includes one round of script review. 可开发票。",
         "只接与账号调性相符的品牌，需提前寄样。", "", ""]
REGION_ZH = {"11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古", "21": "辽宁", "22": "吉林",
             "23": "黑龙江", "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西",
             "37": "山东", "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
             "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏", "61": "陕西", "62": "甘肃",
             "63": "青海", "64": "宁夏", "65": "新疆", "71": "台湾", "81": "香港", "82": "澳门"}

# Price of a short video per follower (yuan) by category, and the other content types relative to it.
PRICE_PER_FOLLOWER = {"beauty": 0.045, "fashion": 0.04, "auto": 0.05, "finance": 0.05, "tech": 0.045,
                      "parenting": 0.04, "home": 0.035}
CONTENT_TYPE_FACTORS = (("long_video", 1.8, 0.5), ("livestream", 0.7, 0.35), ("image_text", 0.45, 0.5))


@dataclass(frozen=True)
class DemoCreator:
    email: str
    handle: str
    display_name: str
    kind: str
    categories: tuple[str, ...]
    region: str
    bio: str
    languages: tuple[str, ...]
    accepting_orders: bool
    locale: str


def demo_creators(count: int = DEMO_CREATORS, seed: int = 20261127) -> list[DemoCreator]:
    """The demo creators' profiles (deterministic); handles are unique and read as their first category."""
    rng = random.Random(seed)
    categories, regions = list(CATEGORIES), list(REGIONS)
    fakes = [f"fake_followers_{c}_{i}" for i, c in enumerate(("beauty", "food", "fitness"))] + \
            [f"fake_likes_{c}_{i}" for i, c in enumerate(("fashion", "pets", "tech"))]
    taken = {"mia_beauty", "leo_food"}
    result = []
    for i in range(count):
        handle = fakes[i] if i < len(fakes) else None
        category = infer_category(handle) if handle else categories[i % len(categories)]
        words, zh_words = CATEGORY_WORDS[category]
        cn, pinyin = rng.choice(CN_NAMES)
        en = rng.choice(EN_NAMES)
        use_en = rng.random() < 0.4
        while handle is None:
            stem = en.lower() if use_en else pinyin
            candidate = f"{stem}_{rng.choice(words)}" + (f"_{rng.randint(1, 99)}" if rng.random() < 0.7 else "")
            if candidate not in taken and infer_category(candidate) == category:
                handle = candidate
        taken.add(handle)
        studio = rng.random() < 0.12
        style = rng.random() < 0.5
        if studio:
            name = f"{cn}{rng.choice(zh_words)}工作室" if style else f"{en} Studio｜{rng.choice(zh_words)}"
        elif use_en:
            name = f"{en} {cn}" if style else f"{en}｜{rng.choice(zh_words)}"
        else:
            name = f"{cn}{rng.choice(zh_words)}" if style else f"{en} {cn}"
        region = regions[i % len(regions)]
        bio = "｜".join(part for part in (rng.choice(BIOS[category]), f"坐标{REGION_ZH[region]}",
                                          rng.choice(BIO_ENDINGS)) if part)
        second = rng.choice([c for c in categories if c != category]) if rng.random() < 0.3 else None
        languages = ["zh"]
        if region in ("44", "81", "82") and rng.random() < 0.6:
            languages.append("yue")
        for code, chance in (("en", 0.2), ("ja", 0.04), ("ko", 0.03)):
            if rng.random() < chance:
                languages.append(code)
        result.append(DemoCreator(
            email=f"{handle.replace('_', '.')}@{EMAIL_DOMAIN}", handle=handle, display_name=name,
            kind="studio" if studio else "individual", categories=(category, second) if second else (category,),
            region=region, bio=bio, languages=tuple(languages), accepting_orders=rng.random() < 0.7,
            locale="zh_CN" if rng.random() < 0.7 else "en"))
    return result


def demo_prices(rng: random.Random, category: str, followers: int) -> dict[str, int]:
    """A plausible rate card for an account of ``followers`` (fen; short video always, others sometimes)."""
    short = max(300.0, followers * PRICE_PER_FOLLOWER.get(category, 0.03) * rng.lognormvariate(0, 0.35))
    prices = {"short_video": short}
    for content_type, factor, chance in CONTENT_TYPE_FACTORS:
        if rng.random() < chance:
            prices[content_type] = short * factor
    return {content_type: _round_yuan(yuan) * 100 for content_type, yuan in prices.items()}


def _round_yuan(yuan: float) -> int:
    """Two significant digits, like people price things (¥1,234 → ¥1,200)."""
    digits = max(0, len(str(int(yuan))) - 2)
    return max(100, round(yuan / 10 ** digits) * 10 ** digits)


def seed_demo_creators(session: Session, password_hash: str, count: int = DEMO_CREATORS) -> int:
    """Create the demo creators (users share one precomputed ``password_hash``), link each to the sandbox and
    give each a rate card; also complete the profiles of mia@ and leo@. Return how many were created."""
    now = utcnow()
    connector = stats.current_connector()
    rng = random.Random(7)
    _complete_named_creators(session, connector, now, rng)
    specs = demo_creators(count)
    users = [User(email=spec.email, password_hash=password_hash, display_name=spec.display_name,
                  signup_kind="creator", locale=spec.locale, timezone="Asia/Shanghai", email_verified_at=now)
             for spec in specs]
    session.add_all(users)
    session.flush()
    creators = [Creator(user_id=user.id, display_name=spec.display_name, kind=spec.kind, handle=spec.handle,
                        bio=spec.bio, languages=list(spec.languages), accepting_orders=spec.accepting_orders,
                        categories=[CreatorCategory(category=c) for c in spec.categories],
                        regions=[CreatorRegion(region=r) for r in _regions(connector, spec.handle, spec.region, now)])
                for spec, user in zip(specs, users, strict=True)]
    session.add_all(creators)
    session.flush()  # one search-index pass for all of them
    for creator in creators:
        _link_and_price(session, creator, connector, now, rng)
    return count


def _regions(connector, handle: str, region: str, now) -> list[str]:
    """Where the profile says the creator is based, and where most of the account's audience is."""
    provinces = connector.account_stats(handle, now=now).audience.get("provinces", {})
    top = next((code for code in provinces if code != "other"), region)
    return list(dict.fromkeys((region, top)))


def _link_and_price(session: Session, creator: Creator, connector, now, rng: random.Random) -> None:
    stats.link_platform_account(session, creator, f"@{creator.handle}", now=now, connector=connector)
    save_rate_card(session, creator, demo_prices(rng, creator.category_codes[0], creator.followers),
                   revision_rounds=rng.choice((0, 1, 1, 2, 2, 3)), lead_time_days=rng.choice((3, 5, 7, 7, 10, 14)),
                   notes=rng.choice(NOTES))


def _complete_named_creators(session: Session, connector, now, rng: random.Random) -> None:
    """mia@creators.demo (beauty, Shanghai) and leo@creators.demo (food, Chengdu), if they exist."""
    named = (("mia@creators.demo", "mia_beauty", ("beauty", "fashion"), "31",
              "美妆博主｜敏感肌护肤分享｜Skincare for sensitive skin, in Chinese and English.", ("zh", "en")),
             ("leo@creators.demo", "leo_food", ("food",), "51",
              "成都美食探店，只说真话｜Street food in Chengdu.", ("zh",)))
    for email, handle, categories, region, bio, languages in named:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            continue
        creator = become_creator(session, user)
        if creator.handle:
            continue
        creator.handle, creator.bio, creator.languages = handle, bio, list(languages)
        creator.accepting_orders = True
        creator.categories = [CreatorCategory(category=c) for c in categories]
        creator.regions = [CreatorRegion(region=r) for r in _regions(connector, handle, region, now)]
        session.flush()
        _link_and_price(session, creator, connector, now, rng)
