"""The wallet's balance chart: the available balance at the end of each day of the last 30 days, in the reader's
time zone (``payments.services.balance_history``), drawn on the wallet page with its data as a table.

Worked examples with postings at fixed times: a day's last posting sets its balance, a day without postings carries
the day before's, a posting late in the UTC evening belongs to the next day in Shanghai, history from before the
window gives the opening balance, spending on credit goes below zero, an empty wallet has no chart.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marketplace.ledger import flows
from marketplace.ledger.services import set_min_balance
from marketplace.payments.services import balance_history
from marketplace.payments.views import money_ticks
from tests.ledger_helpers import assert_ledger_sound

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # 12:00 on 20 November in Shanghai


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class Brand:
    def __init__(self, enterprise, owner):
        self.id, self.owner = enterprise.id, owner


@pytest.fixture
def brand(make_user, make_enterprise):
    owner = make_user(display_name="Olivia Owner")
    return Brand(make_enterprise(owner=owner, state="verified", display_name="Lakeside Tea"), owner)


def top_up(session, enterprise_id: int, amount: int, when: datetime, key: str) -> None:
    flows.top_up(session, enterprise_id=enterprise_id, amount=amount, rail="bank", key=key, now=when)


def fund(session, enterprise_id: int, order_id: int, amount: int, when: datetime) -> None:
    flows.post(session, kind="fund_escrow", key=f"chart:{order_id}:fund", reference=("order", order_id), now=when,
               legs=[flows.debit(flows.enterprise_available(enterprise_id), amount),
                     flows.credit(flows.order_escrow(order_id), amount)])


def test_each_day_closes_on_its_last_posting_and_quiet_days_carry_over(session, brand):
    top_up(session, brand.id, 100_000, at(17, 2), "chart:1")     # 17 Nov 10:00 Shanghai
    top_up(session, brand.id, 50_000, at(17, 8), "chart:2")      # 17 Nov 16:00
    fund(session, brand.id, 9001, 30_000, at(17, 17))             # 18 Nov 01:00 in Shanghai (17 Nov in UTC)
    top_up(session, brand.id, 20_000, at(19, 23, 30), "chart:3")  # 20 Nov 07:30
    series = balance_history(session, brand.id, SHANGHAI, now=NOW)
    assert series == [(date(2026, 11, 17), 150_000), (date(2026, 11, 18), 120_000),
                      (date(2026, 11, 19), 120_000), (date(2026, 11, 20), 140_000)]
    # Read in UTC the same postings close other days.
    assert balance_history(session, brand.id, ZoneInfo("UTC"), now=NOW) == [
        (date(2026, 11, 17), 120_000), (date(2026, 11, 18), 120_000), (date(2026, 11, 19), 140_000),
        (date(2026, 11, 20), 140_000)]
    assert_ledger_sound(session)


def test_history_before_the_window_opens_it_and_the_window_is_thirty_days(session, brand):
    top_up(session, brand.id, 80_000, at(1, 2, month=9), "chart:old")  # long before the window
    top_up(session, brand.id, 5_000, at(10, 2), "chart:new")
    series = balance_history(session, brand.id, SHANGHAI, now=NOW)
    assert len(series) == 30
    assert series[0] == (date(2026, 10, 22), 80_000)  # 30 days up to and including 20 November
    assert series[-1] == (date(2026, 11, 20), 85_000)
    assert [day for day, _ in series] == sorted({day for day, _ in series})
    assert dict(series)[date(2026, 11, 9)] == 80_000 and dict(series)[date(2026, 11, 10)] == 85_000


def test_spending_on_credit_goes_below_zero_and_no_postings_means_no_history(session, brand):
    assert balance_history(session, brand.id, SHANGHAI, now=NOW) == []  # no wallet yet
    flows.open_enterprise_wallet(session, brand.id)
    assert balance_history(session, brand.id, SHANGHAI, now=NOW) == []  # a wallet without postings
    set_min_balance(session, flows.enterprise_available(brand.id), -50_000)  # a credit line of ¥500
    top_up(session, brand.id, 10_000, at(19, 2), "chart:credit:1")
    fund(session, brand.id, 9002, 40_000, at(20, 1))
    assert balance_history(session, brand.id, SHANGHAI, now=NOW) == [(date(2026, 11, 19), 10_000),
                                                                      (date(2026, 11, 20), -30_000)]
    assert_ledger_sound(session)


def test_money_ticks_read_as_amounts():
    assert money_ticks([0, 500_000, 1_000_000]) == ("¥0", "¥5K", "¥10K")
    assert money_ticks([-500_000, 0]) == ("-¥5K", "¥0")


def test_the_wallet_page_draws_the_line_with_its_data(session, brand, client, login_as):
    now = datetime.now(UTC)
    top_up(session, brand.id, 100_000, now - timedelta(days=3), "chart:page:1")
    top_up(session, brand.id, 23_456, now, "chart:page:2")
    session.flush()
    login_as(brand.owner)
    html = client.get(f"/enterprises/{brand.id}/wallet").get_data(as_text=True)
    assert 'id="balance-chart"' in html
    assert "Available balance, last 30 days" in html
    table = re.search(r'<details class="chart-data">(.*?)</details>', html, re.S).group(1)
    amounts = re.findall(r'<td class="num">([^<]+)</td>', table)
    assert amounts[0] == "¥1,000.00" and amounts[-1] == "¥1,234.56"
    assert len(amounts) == 4  # three days back and today, in Shanghai as in UTC (the same clock time each day)
    assert re.search(r'<path class="chart-line" d="M[\d.,]+( L[\d.,]+){3}"', html)


def test_a_wallet_without_history_has_no_chart(session, brand, client, login_as):
    login_as(brand.owner)
    html = client.get(f"/enterprises/{brand.id}/wallet").get_data(as_text=True)
    assert "balance-chart" not in html


def test_the_chart_reads_in_simplified_chinese(session, brand, client, login_as):
    now = datetime.now(UTC)
    top_up(session, brand.id, 1_500_000, now - timedelta(days=2), "chart:zh:1")
    top_up(session, brand.id, 2_500_000, now, "chart:zh:2")
    brand.owner.locale = "zh_CN"
    session.flush()
    login_as(brand.owner)
    html = client.get(f"/enterprises/{brand.id}/wallet").get_data(as_text=True)
    assert "近 30 天可用余额" in html
    assert "钱包每日日终的可用余额" in html
    ticks = re.findall(r'<text class="chart-tick" x="[\d.]+" y="[\d.]+" text-anchor="end" dominant-baseline="middle">([^<]+)</text>',
                       html)  # the amount axis
    assert ticks and all(tick.startswith("¥") for tick in ticks)
    assert any("万" in tick for tick in ticks)  # ¥1万, ¥2万 … the Chinese way of grouping
    table = re.search(r'<details class="chart-data">(.*?)</details>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]+)</td>', table)[-1] == "¥40,000.00"


def test_postings_written_out_of_time_order_count_when_they_happened(session, brand):
    """As the demo data writes them: a later row with an earlier time still closes its own day (the ledger checks
    floors in the order rows are written, so the story may spend before it tops up)."""
    top_up(session, brand.id, 100_000, at(19, 2), "chart:order:1")  # 19 Nov
    fund(session, brand.id, 9003, 40_000, at(17, 2))                 # written second, dated 17 Nov
    top_up(session, brand.id, 60_000, at(16, 2), "chart:order:2")    # written last, dated 16 Nov
    assert balance_history(session, brand.id, SHANGHAI, now=NOW) == [
        (date(2026, 11, 16), 60_000), (date(2026, 11, 17), 20_000), (date(2026, 11, 18), 20_000),
        (date(2026, 11, 19), 120_000), (date(2026, 11, 20), 120_000)]
    assert_ledger_sound(session)
