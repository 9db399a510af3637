"""Demo data for the embedded site (``flask seed-demo``; idempotent; refused in production).

Later issues extend ``seed_demo`` with their own capability's data.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import click
from flask import Flask
from PIL import Image, ImageDraw
from sqlalchemy import func, select
from stdnum.cn import uscc as uscc_std

from marketplace.accounts.models import User
from marketplace.accounts.services import create_user
from marketplace.creators.models import Creator
from marketplace.creators.services import become_creator
from marketplace.db import database
from marketplace.enterprises import services as enterprise_services
from marketplace.enterprises.models import Enterprise, Membership
from marketplace.files.services import store_bytes
from marketplace.orders.models import Order
from marketplace.payments.models import TopUp, Withdrawal
from marketplace.staff.services import create_staff


@dataclass(frozen=True)
class DemoLogin:
    email: str
    what: str


LOGINS = [
    DemoLogin("owner@lumen.demo", "brand owner, Lumen Cosmetics (verified); also a creator"),
    DemoLogin("manager@lumen.demo", "brand manager, Lumen Cosmetics"),
    DemoLogin("finance@lumen.demo", "brand finance, Lumen Cosmetics"),
    DemoLogin("viewer@lumen.demo", "brand viewer, Lumen Cosmetics"),
    DemoLogin("owner@harbor.demo", "brand owner, Harbor Coffee (pending verification)"),
    DemoLogin("owner@nimbus.demo", "brand owner, Nimbus Sports (rejected, to correct)"),
    DemoLogin("mia@creators.demo", "creator (beauty)"),
    DemoLogin("leo@creators.demo", "creator (food)"),
    DemoLogin("reviewer@canal.demo", "staff: reviewer"),
    DemoLogin("finance@canal.demo", "staff: finance"),
    DemoLogin("admin@canal.demo", "staff: admin"),
]


def make_uscc(prefix17: str) -> str:
    """A USCC with a correct GB 32100-2015 check digit for its first 17 characters."""
    return prefix17 + uscc_std.calc_check_digit(prefix17)


CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def _font(size: int):
    from PIL import ImageFont

    for path in CJK_FONTS:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default()


def licence_png(title: str, uscc: str) -> bytes:
    """A sample business licence image (营业执照) for demo data and tests."""
    image = Image.new("RGB", (900, 640), (250, 246, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 880, 620), outline=(160, 40, 40), width=6)
    draw.text((60, 50), "营业执照  BUSINESS LICENCE (DEMO)", fill=(160, 40, 40), font=_font(34))
    draw.text((60, 150), f"名称 Name: {title}", fill=(30, 30, 30), font=_font(26))
    draw.text((60, 210), f"统一社会信用代码 USCC: {uscc}", fill=(30, 30, 30), font=_font(26))
    draw.text((60, 540), "Issued for Canal's demo data. Not a real document. 演示数据，非真实证照。",
              fill=(90, 90, 90), font=_font(20))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _enterprise(session, owner: User, legal_name: str, display: str, prefix17: str) -> Enterprise:
    uscc = make_uscc(prefix17)
    details = enterprise_services.EnterpriseDetails(
        legal_name=legal_name, display_name=display, uscc=uscc, contact_name=owner.display_name,
        contact_phone="+86 21 5555 0100", contact_email=owner.email, invoice_title=legal_name, tax_number=uscc,
    )
    enterprise = enterprise_services.create_enterprise(session, owner, details)
    stored = store_bytes(session, licence_png(display, uscc), "image/png", "licence.png", owner.id)
    enterprise.licence_file_id = stored.id
    session.flush()
    return enterprise


def seed_demo(app: Flask) -> bool:
    """Create the demo data unless it is there; return True when it was created."""
    password = app.config["DEMO_PASSWORD"]
    with app.app_context():
        session = database(app).write_session_factory()
        try:
            created = False
            if session.scalar(select(User).where(User.email == "admin@canal.demo")) is None:
                _seed_foundation(session, password)
                created = True
            if session.scalar(select(TopUp.id).limit(1)) is None:
                _seed_money(session)
                created = True
            if session.scalar(select(func.count(Creator.id))) < 50:
                _seed_creators(session, password)
                created = True
            if session.scalar(select(Order.id).limit(1)) is None:
                created = _seed_orders(session) or created
            if session.scalar(select(Withdrawal.id).limit(1)) is None:
                created = _seed_withdrawals(session) or created
            session.commit()
            return created
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()


def _seed_foundation(session, password: str) -> None:
    """Accounts, enterprises in each verification state, members of each role, creators, staff."""
    staff = {role: create_staff(session, email=f"{role}@canal.demo", password=password, role=role,
                                display_name=f"Canal {role}") for role in ("reviewer", "finance", "admin")}

    def user(email: str, name: str, kind: str = "brand", locale: str = "en") -> User:
        return create_user(session, email=email, password=password, display_name=name,
                           signup_kind=kind, locale=locale, verified=True)

    owner = user("owner@lumen.demo", "Chen Jing 陈静", locale="zh_CN")
    lumen = _enterprise(session, owner, "上海流明化妆品有限公司", "Lumen Cosmetics 流明美妆",
                        "91310115MA1K4DEM3")
    enterprise_services.submit_for_verification(session, owner, lumen)
    enterprise_services.approve_enterprise(session, staff["reviewer"], lumen)
    for email, name, role in (("manager@lumen.demo", "Wang Lei 王磊", "manager"),
                              ("finance@lumen.demo", "Li Na 李娜", "finance"),
                              ("viewer@lumen.demo", "Zhao Min 赵敏", "viewer")):
        member = user(email, name)
        session.add(Membership(enterprise_id=lumen.id, user_id=member.id, role=role))
    become_creator(session, owner)

    harbor_owner = user("owner@harbor.demo", "Sun Hao 孙浩")
    harbor = _enterprise(session, harbor_owner, "杭州港湾咖啡有限公司", "Harbor Coffee 港湾咖啡",
                         "91330106MA2H7DEM1")
    enterprise_services.submit_for_verification(session, harbor_owner, harbor)

    nimbus_owner = user("owner@nimbus.demo", "Zhou Yu 周雨")
    nimbus = _enterprise(session, nimbus_owner, "深圳云朵运动用品有限公司", "Nimbus Sports 云朵运动",
                         "91440300MA5N2DEM7")
    enterprise_services.submit_for_verification(session, nimbus_owner, nimbus)
    enterprise_services.reject_enterprise(
        session, staff["reviewer"], nimbus,
        "The licence photo is cut off at the bottom; upload a complete scan showing the seal.")

    user("mia@creators.demo", "Mia 米娅", kind="creator", locale="zh_CN")
    user("leo@creators.demo", "Leo 里奥", kind="creator")
    session.flush()


def _seed_money(session) -> None:
    """Lumen's wallet: bank and card top-ups over the last weeks, one transfer awaiting finance, a credit line."""
    from datetime import timedelta

    from marketplace.db import utcnow
    from marketplace.payments import services as payments

    lumen = session.scalar(select(Enterprise).where(Enterprise.display_name.like("Lumen%")))
    finance_member = session.scalar(select(User).where(User.email == "finance@lumen.demo"))
    finance_staff = session.scalar(select(User).where(User.email == "finance@canal.demo"))
    if lumen is None or finance_member is None or finance_staff is None:
        return
    now = utcnow()
    history = [(200_000_00, 200_000_00, 21), (50_000_00, 49_980_00, 9)]  # requested, received, days ago
    for requested, received, days in history:
        top_up = payments.request_bank_top_up(session, finance_member, lumen, requested)
        top_up.created_at = now - timedelta(days=days, hours=3)
        payments.confirm_bank_top_up(session, finance_staff, top_up, received,
                                     note="Matched on the bank statement" if received == requested
                                     else "Bank charged a ¥20 transfer fee", now=now - timedelta(days=days))
    card = payments.start_card_top_up(session, finance_member, lumen, 8_000_00, ["card"])
    card.created_at = now - timedelta(days=4)
    payments.complete_card_top_up(session, card, amount=8_000_00, fee=273_00, currency="CNY",
                                  payment_intent="pi_demo_lumen_1", now=now - timedelta(days=4))
    pending = payments.request_bank_top_up(session, finance_member, lumen, 30_000_00)
    pending.created_at = now - timedelta(hours=5)
    payments.set_credit_line(session, finance_staff, lumen, 100_000_00,
                             "Quarterly campaign budget approved; 30-day terms.")
    session.flush()


def _seed_withdrawals(session) -> bool:
    """Lumen's withdrawals: one paid last week (with the bank's reference), one waiting for finance."""
    from datetime import timedelta

    from marketplace.db import utcnow
    from marketplace.payments import withdrawals

    lumen = session.scalar(select(Enterprise).where(Enterprise.display_name.like("Lumen%")))
    finance_member = session.scalar(select(User).where(User.email == "finance@lumen.demo"))
    finance_staff = session.scalar(select(User).where(User.email == "finance@canal.demo"))
    if lumen is None or finance_member is None or finance_staff is None or not lumen.is_verified:
        return False
    now = utcnow()
    account = {"account_name": lumen.legal_name, "bank_name": "招商银行上海陆家嘴支行",
               "account_number": "6214830121886602"}
    for amount, days, key in ((20_000_00, 6, "demo-withdrawal-paid"), (5_000_00, 0, "demo-withdrawal-pending")):
        if withdrawals.withdrawable(session, lumen.id) < amount:
            return False
        withdrawal = withdrawals.request_withdrawal(session, finance_member, lumen, amount=amount, request_key=key,
                                                    now=now - timedelta(days=days, hours=2), **account)
        if days:
            withdrawals.pay_withdrawal(session, finance_staff, withdrawal, "CMB 2026110400187",
                                       now=now - timedelta(days=days - 1))
    session.flush()
    return True


def _seed_creators(session, password: str) -> None:
    """A few hundred creators across categories and regions, linked to the sandbox platform, with rate cards."""
    from marketplace.creators.demo import seed_demo_creators
    from marketplace.security import hash_password

    seed_demo_creators(session, hash_password(password))  # one hash for every demo creator: seeding stays fast
    session.flush()


def _seed_orders(session) -> bool:
    """Lumen's campaigns, jobs and orders in every state, through the order services (after creators and money)."""
    from marketplace.orders.demo import seed_demo_orders

    return seed_demo_orders(session)


def print_logins(app: Flask) -> None:
    password = app.config["DEMO_PASSWORD"]
    click.echo("")
    click.echo(f"Demo logins (password for all: {password})")
    for login in LOGINS:
        click.echo(f"  {login.email:24} {login.what}")
    click.echo("  …and ~300 listed creators (<handle with dots>@creators.demo, e.g. the cards on /discover)")
    from marketplace.orders.demo import GUIDE

    click.echo("Order-taking demo (orders in every state, jobs, a dispute):")
    for email, what in GUIDE:
        click.echo(f"  {email:24} {what}")
    if app.config["MAIL_BACKEND"] == "console":
        click.echo(f"Emails sent by the site: {app.config['PUBLIC_URL']}/_dev/mailbox/")
    click.echo("")
