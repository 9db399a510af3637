"""Access-matrix rows and CSRF cases for brand withdrawals (see test_access_matrix.py and test_security.py).

``withdrawal_world``: the matrix's ``money_world`` (A verified, ¥500 in its wallet) and a pending ¥100 withdrawal
of A, requested through the service by A's finance member.
"""

from __future__ import annotations

from sqlalchemy import func, select


def _matrix():
    from tests.integration import test_access_matrix as m

    return m


def withdrawal_world(session, w) -> None:
    from marketplace.enterprises.models import Enterprise
    from marketplace.payments.withdrawals import request_withdrawal

    m = _matrix()
    if "top_up" not in w.money:  # a caller that built several worlds may have built it already
        m.money_world(session, w)
    a = session.get(Enterprise, w.a_id)
    pending = request_withdrawal(session, w.users[m.A_FINANCE], a, amount=100_00, account_name=a.legal_name,
                                 bank_name="招商银行上海分行", account_number="6214830123456789",
                                 request_key="matrix-withdrawal-key-1")
    session.flush()
    w.money["withdrawal"] = pending.id


def _request_form(w) -> dict[str, str]:
    from marketplace.db import get_session
    from marketplace.enterprises.models import Enterprise

    legal_name = get_session().get(Enterprise, w.a_id).legal_name
    return {"request_key": "matrix-withdrawal-key-2", "amount": "50", "account_name": legal_name,
            "bank_name": "招商银行上海分行", "account_number": "6214830123456789"}


def _a_withdrawals(s, w):
    from marketplace.payments.models import Withdrawal

    return s.scalar(select(func.count()).select_from(Withdrawal).where(Withdrawal.enterprise_id == w.a_id))


def _withdrawal_state(s, w):
    from marketplace.payments.models import Withdrawal

    return s.scalar(select(Withdrawal.state).where(Withdrawal.id == w.money["withdrawal"]))


def rows() -> list:
    m = _matrix()
    R = m.Row
    a_withdrawal = lambda w: {"enterprise_id": w.a_id, "withdrawal_id": w.money["withdrawal"]}  # noqa: E731
    withdrawal = lambda w: {"withdrawal_id": w.money["withdrawal"]}  # noqa: E731
    wid = lambda w: w.money["withdrawal"]  # noqa: E731
    return [
        R("payments.withdraw", "GET", m.ent_a, m.A_WALLET, (200,),
          "enterprise.finance: owner and finance of A; not manager/viewer", setup=withdrawal_world),
        R("payments.withdraw", "POST", m.ent_a, m.A_WALLET, (302,),
          "enterprise.finance: requests a withdrawal and holds its amount", setup=withdrawal_world,
          data=lambda w, actor: _request_form(w), probe=_a_withdrawals),
        R("payments.withdrawal_list", "GET", m.ent_a, m.A_WALLET, (200,),
          "enterprise.finance: A's withdrawals", setup=withdrawal_world),
        R("payments.withdrawal_detail", "GET", a_withdrawal, m.A_WALLET, (200,),
          "enterprise.finance: one of A's withdrawals", setup=withdrawal_world),
        R("payments.cancel_withdrawal", "POST", a_withdrawal, m.A_WALLET, (302,),
          "enterprise.finance: A takes back its pending withdrawal (the amount returns)", setup=withdrawal_world,
          probe=_withdrawal_state),
        R("finance.withdrawals_page", "GET", m.none, m.FINANCE_VIEW, (200,),
          "finance.view: finance staff, admin (read only)", setup=withdrawal_world),
        R("finance.pay_withdrawal", "POST", withdrawal, m.FINANCE_MANAGE, (302,),
          "finance.manage: finance staff record the bank transfer (admins read only)", setup=withdrawal_world,
          data=lambda w, actor: {f"p{wid(w)}-bank_reference": "CMB 20261128001"}, probe=_withdrawal_state),
        R("finance.reject_withdrawal", "POST", withdrawal, m.FINANCE_MANAGE, (302,),
          "finance.manage: finance staff reject with a reason (the amount returns)", setup=withdrawal_world,
          data=lambda w, actor: {f"r{wid(w)}-reason": "Account details do not match"}, probe=_withdrawal_state),
    ]


def csrf_cases() -> list:
    from tests.integration import test_security as t

    m = _matrix()
    C = t.CsrfCase

    def probe(read):
        return lambda s, w, c: read(s, w)

    return [
        C("payments.withdraw", m.A_FINANCE, lambda w: f"/enterprises/{w.a_id}/wallet/withdraw", _request_form,
          probe(_a_withdrawals), setup=withdrawal_world),
        C("payments.cancel_withdrawal", m.A_FINANCE,
          lambda w: f"/enterprises/{w.a_id}/wallet/withdrawals/{w.money['withdrawal']}/cancel", lambda w: {},
          probe(_withdrawal_state), setup=withdrawal_world),
        C("finance.pay_withdrawal", m.FINANCE_STAFF, lambda w: f"/finance/withdrawals/{w.money['withdrawal']}/pay",
          lambda w: {f"p{w.money['withdrawal']}-bank_reference": "CMB 20261128001"}, probe(_withdrawal_state),
          setup=withdrawal_world),
        C("finance.reject_withdrawal", m.FINANCE_STAFF,
          lambda w: f"/finance/withdrawals/{w.money['withdrawal']}/reject",
          lambda w: {f"r{w.money['withdrawal']}-reason": "Account details do not match"}, probe(_withdrawal_state),
          setup=withdrawal_world),
    ]
