"""Finance console: brand withdrawal requests — pay (after the bank transfer, with its reference) or reject.

Registered on the finance blueprint. Reading needs ``finance.view``; deciding needs ``finance.manage``. Rules:
``marketplace.payments.withdrawals``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from marketplace import authz
from marketplace.db import get_session
from marketplace.enterprises.models import Enterprise
from marketplace.errors import DomainError
from marketplace.extensions import client_ip
from marketplace.finance.views import bp
from marketplace.main.templating import paginate
from marketplace.payments import withdrawals
from marketplace.payments.forms import PayWithdrawalForm, RejectWithdrawalForm
from marketplace.payments.models import WITHDRAWAL_STATES, Withdrawal


@bp.get("/withdrawals")
@login_required
def withdrawals_page():
    authz.require("finance.view")
    return _queue()


def _queue(status: int = 200, failed: tuple[int, str, object] | None = None):
    """The withdrawals list; ``failed``: (withdrawal id, "pay" | "reject", the submitted form with its errors)."""
    db = get_session()
    state = request.args.get("state", "pending")
    q = request.args.get("q", "").strip()
    query = select(Withdrawal).order_by(Withdrawal.id.asc() if state == "pending" else Withdrawal.id.desc())
    if state in WITHDRAWAL_STATES:
        query = query.where(Withdrawal.state == state)
    if q:
        compact = "".join(q.split()).upper()
        if compact.startswith(withdrawals.CODE_PREFIX) and compact[3:].isdigit() and len(compact) == 12:
            query = query.where(Withdrawal.id == int(compact[3:-1]))
        else:
            query = query.join(Enterprise, Enterprise.id == Withdrawal.enterprise_id).where(
                or_(Enterprise.legal_name.ilike(f"%{q}%"), Enterprise.display_name.ilike(f"%{q}%")))
    page = paginate(db, query, per_page=25)
    pay_forms = {w.id: PayWithdrawalForm(prefix=f"p{w.id}", formdata=None) for w in page.items}
    reject_forms = {w.id: RejectWithdrawalForm(prefix=f"r{w.id}", formdata=None) for w in page.items}
    if failed is not None:
        withdrawal_id, which, form = failed
        (pay_forms if which == "pay" else reject_forms)[withdrawal_id] = form
    return render_template("finance/withdrawals.html", page=page, state=state, q=q, pay_forms=pay_forms,
                           reject_forms=reject_forms, states=WITHDRAWAL_STATES), status


def _load(withdrawal_id: int) -> Withdrawal:
    withdrawal = get_session().get(Withdrawal, withdrawal_id)
    if withdrawal is None:
        abort(404)
    return withdrawal


def _decide(withdrawal_id: int, which: str):
    authz.require("finance.manage")
    withdrawal = _load(withdrawal_id)
    form = (PayWithdrawalForm(prefix=f"p{withdrawal.id}") if which == "pay"
            else RejectWithdrawalForm(prefix=f"r{withdrawal.id}"))
    db = get_session()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _queue(400, (withdrawal.id, which, form))
    code = withdrawals.withdrawal_code(withdrawal.id)
    try:
        if which == "pay":
            withdrawals.pay_withdrawal(db, current_user, withdrawal, form.bank_reference.data, ip_address=client_ip())
        else:
            withdrawals.reject_withdrawal(db, current_user, withdrawal, form.reason.data, ip_address=client_ip())
        db.commit()
    except DomainError as error:
        db.rollback()
        field = getattr(form, error.field, None) if error.field else None
        if field is not None:
            field.errors = [error.message]
        else:
            flash(error.message, "error")
        return _queue(error.status_code, (withdrawal_id, which, form))
    if which == "pay":
        flash(_("%(code)s marked as paid to %(name)s.", code=code, name=withdrawal.enterprise.display_name), "success")
    else:
        flash(_("%(code)s rejected: the amount is back in %(name)s's balance.", code=code,
                name=withdrawal.enterprise.display_name), "info")
    return redirect(url_for("finance.withdrawals_page"))


@bp.post("/withdrawals/<int:withdrawal_id>/pay")
@login_required
def pay_withdrawal(withdrawal_id: int):
    return _decide(withdrawal_id, "pay")


@bp.post("/withdrawals/<int:withdrawal_id>/reject")
@login_required
def reject_withdrawal(withdrawal_id: int):
    return _decide(withdrawal_id, "reject")
