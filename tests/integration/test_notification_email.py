"""The notification email (``templates/mail/notification.txt``): a greeting, the notification's sentence, its link on
Canal, and a footer saying why it came — the important events of the reader's orders and wallet — in the reader's
language, the same for an order's news and a wallet's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.mail.models import OutboxEmail
from marketplace.notifications.services import notify

FOOTER = {
    "en": "You receive this email for the important events of your orders and your wallet. Every notification is "
          "also in your inbox on Canal.",
    "zh_CN": "您收到此邮件是因为您的订单或钱包有重要动态。所有通知也可在 Canal 的通知中心查看。",
}
OLD_FOOTER = {"en": "the important events of your orders.", "zh_CN": "您的订单有重要动态。"}
TEXT = {
    ("withdrawal_paid", "en"): "Withdrawal CNW00000042 of ¥3,000.00 from Lakeside Tea was paid to the bank account "
                               "(bank reference CMB 2026112800417).",
    ("withdrawal_paid", "zh_CN"): "Lakeside Tea的提现 CNW00000042（¥3,000.00）已打款至银行账户（银行流水号 CMB 2026112800417）。",
    ("draft_submitted", "en"): "Cleo submitted a draft for “Spring serum”.",
}
PARAMS = {
    "withdrawal_paid": {"code": "CNW00000042", "amount": "¥3,000.00", "enterprise": "Lakeside Tea",
                        "bank_reference": "CMB 2026112800417"},
    "draft_submitted": {"creator": "Cleo", "title": "Spring serum"},
}


@pytest.mark.parametrize(("kind", "locale"), [("withdrawal_paid", "en"), ("withdrawal_paid", "zh_CN"),
                                              ("draft_submitted", "en")])
def test_the_email_says_what_happened_and_why_it_came(app, session, make_user, kind, locale):
    reader = make_user(display_name="Olivia Owner", locale=locale)
    url = "/enterprises/7/wallet/withdrawals/42" if kind.startswith("withdrawal") else "/orders/9"
    assert notify(session, [reader], kind, url=url, params=PARAMS[kind]) == 1
    session.flush()
    [email] = session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == reader.email)).all()
    body = email.body_text
    lines = [line for line in body.splitlines() if line.strip()]
    link = f'{app.config["PUBLIC_URL"]}{url}'
    if locale == "en":
        assert lines[:3] == ["Hello Olivia Owner,", TEXT[kind, locale], f"Open it on Canal: {link}"]
    else:
        assert lines[:3] == ["Olivia Owner，您好：", TEXT[kind, locale], f"在 Canal 上查看： {link}"]
    assert email.subject == TEXT[kind, locale]
    assert lines[-1] == FOOTER[locale]
    assert OLD_FOOTER[locale] not in body
