"""Brand withdrawals on the wallet: request (holds the amount), list, detail, cancel a pending request.

Owner and finance members only (``enterprise.finance``); another enterprise's withdrawal is not found (404).
Rules and the hold-on-request decision: ``marketplace.payments.withdrawals``.
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace import authz
from marketplace.db import get_session
from marketplace.enterprises.models import Enterprise
from marketplace.errors import DomainError
from marketplace.extensions import client_ip
from marketplace.forms import ActionForm, apply_domain_error
from marketplace.main.templating import paginate
from marketplace.payments import withdrawals
from marketplace.payments.forms import WithdrawalForm
from marketplace.payments.models import Withdrawal
from marketplace.payments.views import bp, load_enterprise


def load_withdrawal(enterprise: Enterprise, withdrawal_id: int) -> Withdrawal:
    """A withdrawal of this enterprise, or 404 (another enterprise's is not found here)."""
    withdrawal = get_session().get(Withdrawal, withdrawal_id)
    if withdrawal is None or withdrawal.enterprise_id != enterprise.id:
        abort(404)
    return withdrawal


def _withdraw_page(enterprise: Enterprise, form: WithdrawalForm, status: int = 200):
    available = withdrawals.withdrawable(get_session(), enterprise.id)
    form.amount.description = _("At most %(amount)s: your available balance, without credit.",
                                amount=_money(available))
    return render_template("payments/withdraw.html", enterprise=enterprise, form=form, withdrawable=available), status


@bp.route("/enterprises/<int:enterprise_id>/wallet/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(enterprise_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    db = get_session()
    form = WithdrawalForm()
    if not form.is_submitted():
        last = db.scalar(select(Withdrawal).where(Withdrawal.enterprise_id == enterprise.id)
                         .order_by(Withdrawal.id.desc()).limit(1))
        form.request_key.data = secrets.token_urlsafe(24)
        form.account_name.data = enterprise.legal_name
        if last is not None:
            form.bank_name.data, form.account_number.data = last.bank_name, last.account_number
        return _withdraw_page(enterprise, form)
    if not form.validate():
        return _withdraw_page(enterprise, form, 400)
    try:
        withdrawal = withdrawals.request_withdrawal(
            db, current_user, enterprise, amount=form.amount.minor, account_name=form.account_name.data,
            bank_name=form.bank_name.data, account_number=form.account_number.data,
            request_key=form.request_key.data, ip_address=client_ip())
        db.commit()
    except DomainError as error:
        db.rollback()
        if not apply_domain_error(form, error):
            flash(error.message, "error")
        return _withdraw_page(enterprise, form, error.status_code)
    flash(_("Withdrawal %(code)s requested: %(amount)s is held until Canal finance pays it.",
            code=withdrawals.withdrawal_code(withdrawal.id), amount=_money(withdrawal.amount)), "success")
    return redirect(url_for("payments.withdrawal_detail", enterprise_id=enterprise.id, withdrawal_id=withdrawal.id))


def _money(minor: int) -> str:
    from marketplace.main.templating import money_filter

    return money_filter(minor)


@bp.get("/enterprises/<int:enterprise_id>/wallet/withdrawals")
@login_required
def withdrawal_list(enterprise_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    db = get_session()
    page = paginate(db, select(Withdrawal).where(Withdrawal.enterprise_id == enterprise.id)
                    .order_by(Withdrawal.id.desc()), per_page=25)
    count, held = withdrawals.pending_withdrawals_total(db, enterprise.id)
    return render_template("payments/withdrawals.html", enterprise=enterprise, page=page, pending_count=count,
                           pending_amount=held)


@bp.get("/enterprises/<int:enterprise_id>/wallet/withdrawals/<int:withdrawal_id>")
@login_required
def withdrawal_detail(enterprise_id: int, withdrawal_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    withdrawal = load_withdrawal(enterprise, withdrawal_id)
    return render_template("payments/withdrawal.html", enterprise=enterprise, withdrawal=withdrawal,
                           action_form=ActionForm())


@bp.post("/enterprises/<int:enterprise_id>/wallet/withdrawals/<int:withdrawal_id>/cancel")
@login_required
def cancel_withdrawal(enterprise_id: int, withdrawal_id: int):
    enterprise = load_enterprise(enterprise_id)
    authz.require("enterprise.finance", enterprise)
    withdrawal = load_withdrawal(enterprise, withdrawal_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        withdrawals.cancel_withdrawal(db, current_user, withdrawal, ip_address=client_ip())
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return render_template("payments/withdrawal.html", enterprise=enterprise,
                               withdrawal=load_withdrawal(enterprise, withdrawal_id),
                               action_form=ActionForm()), error.status_code
    flash(_("Withdrawal %(code)s was cancelled; the amount is back in your available balance.",
            code=withdrawals.withdrawal_code(withdrawal.id)), "info")
    return redirect(url_for("payments.withdrawal_detail", enterprise_id=enterprise.id, withdrawal_id=withdrawal.id))
