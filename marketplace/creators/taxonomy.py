"""Fixed vocabularies for creators: content types, categories, regions (provinces), languages, ID types.

Codes are stored; labels are shown (translated).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CONTENT_TYPES = {
    "short_video": _l("Short video"),
    "long_video": _l("Long video"),
    "livestream": _l("Livestream mention"),
    "image_text": _l("Image-text post"),
}

CATEGORIES = {
    "beauty": _l("Beauty"),
    "fashion": _l("Fashion"),
    "food": _l("Food"),
    "travel": _l("Travel"),
    "tech": _l("Tech & gadgets"),
    "gaming": _l("Gaming"),
    "parenting": _l("Parenting"),
    "fitness": _l("Fitness"),
    "home": _l("Home & living"),
    "pets": _l("Pets"),
    "auto": _l("Cars"),
    "education": _l("Education"),
    "finance": _l("Personal finance"),
    "music": _l("Music"),
    "comedy": _l("Comedy"),
    "lifestyle": _l("Lifestyle"),
}

# Provincial-level divisions, by GB/T 2260 two-digit code.
REGIONS = {
    "11": _l("Beijing"), "12": _l("Tianjin"), "13": _l("Hebei"), "14": _l("Shanxi"), "15": _l("Inner Mongolia"),
    "21": _l("Liaoning"), "22": _l("Jilin"), "23": _l("Heilongjiang"), "31": _l("Shanghai"), "32": _l("Jiangsu"),
    "33": _l("Zhejiang"), "34": _l("Anhui"), "35": _l("Fujian"), "36": _l("Jiangxi"), "37": _l("Shandong"),
    "41": _l("Henan"), "42": _l("Hubei"), "43": _l("Hunan"), "44": _l("Guangdong"), "45": _l("Guangxi"),
    "46": _l("Hainan"), "50": _l("Chongqing"), "51": _l("Sichuan"), "52": _l("Guizhou"), "53": _l("Yunnan"),
    "54": _l("Tibet"), "61": _l("Shaanxi"), "62": _l("Gansu"), "63": _l("Qinghai"), "64": _l("Ningxia"),
    "65": _l("Xinjiang"), "71": _l("Taiwan"), "81": _l("Hong Kong"), "82": _l("Macao"),
}

LANGUAGES = {
    "zh": _l("Mandarin"),
    "yue": _l("Cantonese"),
    "en": _l("English"),
    "ja": _l("Japanese"),
    "ko": _l("Korean"),
}

AGE_BANDS = ("18-23", "24-30", "31-40", "41-50", "50+")

ID_TYPES = {
    "resident_id": _l("Resident identity card (居民身份证)"),
    "passport": _l("Passport"),
    "hk_macao_permit": _l("Mainland travel permit for Hong Kong and Macao residents"),
    "taiwan_permit": _l("Mainland travel permit for Taiwan residents"),
}
