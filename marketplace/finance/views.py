"""Finance console pages (platform finance staff; admins read only)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from marketplace import authz
from marketplace.audit.models import AuditEntry
from marketplace.db import get_session
from marketplace.enterprises.models import Enterprise
from marketplace.errors import DomainError
from marketplace.extensions import client_ip
from marketplace.forms import apply_domain_error
from marketplace.ledger.models import ACCOUNT_TYPES, LedgerAccount, LedgerTransaction, Posting
from marketplace.ledger.services import balance_mismatches, trial_balance, unbalanced_transactions
from marketplace.main.templating import money_filter, paginate
from marketplace.money import Money
from marketplace.payments import services as payment_services
from marketplace.payments.forms import CancelForm, ConfirmBankTopUpForm, CreditLineForm
from marketplace.payments.models import CreditLine, TopUp, Withdrawal
from marketplace.payments.services import parse_reference_code
from marketplace.payments.views import wallet_holds
from marketplace.payments.withdrawals import pending_withdrawals_total

bp = Blueprint("finance", __name__, url_prefix="/finance")


@bp.get("/")
@login_required
def home():
    authz.require("finance.view")
    db = get_session()
    pending = db.scalar(select(func.count()).select_from(TopUp).where(TopUp.state == "pending", TopUp.method == "bank"))
    # SUM of a bigint is NUMERIC on PostgreSQL: back to int minor units for Money.
    pending_amount = int(db.scalar(select(func.coalesce(func.sum(TopUp.amount_requested), 0))
                                   .where(TopUp.state == "pending", TopUp.method == "bank")))
    rows, net = trial_balance(db)
    recent = db.scalars(select(LedgerTransaction).order_by(LedgerTransaction.id.desc()).limit(10)).all()
    credit_total = int(db.scalar(select(func.coalesce(func.sum(CreditLine.limit), 0))))
    withdrawals_pending, withdrawals_held = pending_withdrawals_total(db)
    return render_template("finance/home.html", pending=pending, pending_amount=pending_amount, rows=rows, net=net,
                           recent=recent, credit_total=credit_total, withdrawals_pending=withdrawals_pending,
                           withdrawals_held=withdrawals_held)


@bp.get("/top-ups")
@login_required
def top_ups():
    authz.require("finance.view")
    db = get_session()
    state = request.args.get("state", "pending")
    method = request.args.get("method", "bank")
    q = request.args.get("q", "").strip()
    query = select(TopUp).order_by(TopUp.id.asc() if state == "pending" else TopUp.id.desc())
    if state in ("pending", "completed", "cancelled", "failed"):
        query = query.where(TopUp.state == state)
    if method in ("bank", "card"):
        query = query.where(TopUp.method == method)
    if q:
        top_up_id = parse_reference_code(q)
        if top_up_id is not None:
            query = query.where(TopUp.id == top_up_id)
        else:
            query = query.join(Enterprise, Enterprise.id == TopUp.enterprise_id).where(
                or_(Enterprise.legal_name.ilike(f"%{q}%"), Enterprise.display_name.ilike(f"%{q}%"),
                    TopUp.reference_code.ilike(f"%{q.replace(' ', '').upper()}%")))
    page = paginate(db, query, per_page=25)
    forms = {t.id: ConfirmBankTopUpForm(prefix=f"t{t.id}", formdata=None,
                                        data={"amount_received": f"{Money(t.amount_requested, t.currency).to_decimal():f}"})
             for t in page.items}
    invalid_code = bool(q) and q.upper().startswith("CNL") and parse_reference_code(q) is None
    return render_template("finance/top_ups.html", page=page, state=state, method=method, q=q, forms=forms,
                           cancel_form=CancelForm(), invalid_code=invalid_code)


def _load_top_up(top_up_id: int) -> TopUp:
    top_up = get_session().get(TopUp, top_up_id)
    if top_up is None:
        abort(404)
    return top_up


@bp.post("/top-ups/<int:top_up_id>/confirm")
@login_required
def confirm_top_up(top_up_id: int):
    authz.require("finance.manage")
    top_up = _load_top_up(top_up_id)
    form = ConfirmBankTopUpForm(prefix=f"t{top_up.id}")
    db = get_session()
    if form.validate_on_submit():
        try:
            payment_services.confirm_bank_top_up(db, current_user, top_up, form.amount_received.minor,
                                                 form.note.data or "", ip_address=client_ip())
            db.commit()
        except DomainError as error:
            db.rollback()
            flash(error.message, "error")
            return top_ups(), error.status_code  # the queue again, with the reason, and a 4xx
        flash(_("%(code)s confirmed: %(name)s was credited.", code=top_up.reference_code,
                name=top_up.enterprise.display_name), "success")
        return redirect(url_for("finance.top_ups"))
    messages = [m for errors in form.errors.values() for m in errors]
    flash(" ".join(str(m) for m in messages) or _("Check the amount."), "error")
    return top_ups(), 400


@bp.post("/top-ups/<int:top_up_id>/cancel")
@login_required
def cancel_top_up(top_up_id: int):
    authz.require("finance.manage")
    top_up = _load_top_up(top_up_id)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    try:
        payment_services.cancel_top_up(db, current_user, top_up, form.reason.data or "", ip_address=client_ip())
        db.commit()
    except DomainError as error:
        db.rollback()
        flash(error.message, "error")
        return top_ups(), error.status_code
    flash(_("%(code)s was cancelled.", code=top_up.reference_code or f"#{top_up.id}"), "info")
    return redirect(url_for("finance.top_ups"))


@bp.get("/accounts")
@login_required
def accounts():
    authz.require("finance.view")
    db = get_session()
    q = request.args.get("q", "").strip()
    type_ = request.args.get("type", "")
    nonzero = request.args.get("nonzero") == "1"
    query = select(LedgerAccount).order_by(LedgerAccount.code)
    if q:
        query = query.where(or_(LedgerAccount.code.ilike(f"%{q}%"), LedgerAccount.name.ilike(f"%{q}%")))
    if type_ in ACCOUNT_TYPES:
        query = query.where(LedgerAccount.type == type_)
    if nonzero:
        query = query.where(LedgerAccount.balance != 0)
    page = paginate(db, query, per_page=30)
    return render_template("finance/accounts.html", page=page, q=q, type_=type_, nonzero=nonzero,
                           types=ACCOUNT_TYPES)


@bp.get("/accounts/<int:account_id>")
@login_required
def account(account_id: int):
    authz.require("finance.view")
    db = get_session()
    ledger_account = db.get(LedgerAccount, account_id)
    if ledger_account is None:
        abort(404)
    page = paginate(db, select(Posting).where(Posting.account_id == ledger_account.id).order_by(Posting.id.desc()),
                    per_page=30)
    return render_template("finance/account.html", account=ledger_account, page=page)


@bp.get("/transactions/<int:transaction_id>")
@login_required
def transaction(transaction_id: int):
    authz.require("finance.view")
    db = get_session()
    txn = db.get(LedgerTransaction, transaction_id)
    if txn is None:
        abort(404)
    cause = withdrawal = None
    if txn.reference_type == "top_up":
        cause = db.get(TopUp, txn.reference_id)
    elif txn.reference_type == "withdrawal":
        withdrawal = db.get(Withdrawal, txn.reference_id)
    reversals = db.scalars(select(LedgerTransaction).where(LedgerTransaction.reverses_id == txn.id)).all()
    return render_template("finance/transaction.html", txn=txn, cause=cause, withdrawal=withdrawal,
                           reversals=reversals)


@bp.get("/trial-balance")
@login_required
def trial_balance_page():
    authz.require("finance.view")
    db = get_session()
    rows, net = trial_balance(db)
    return render_template("finance/trial_balance.html", rows=rows, net=net, mismatches=balance_mismatches(db),
                           unbalanced=unbalanced_transactions(db))


@bp.get("/credit-lines")
@login_required
def credit_lines():
    authz.require("finance.view")
    db = get_session()
    q = request.args.get("q", "").strip()
    query = select(Enterprise).where(Enterprise.verification_state == "verified").order_by(Enterprise.display_name)
    if q:
        query = query.where(or_(Enterprise.legal_name.ilike(f"%{q}%"), Enterprise.display_name.ilike(f"%{q}%"),
                                Enterprise.uscc.ilike(f"%{q}%")))
    page = paginate(db, query, per_page=25)
    lines = {line.enterprise_id: line for line in db.scalars(
        select(CreditLine).where(CreditLine.enterprise_id.in_([e.id for e in page.items])))}
    summaries = {e.id: payment_services.wallet_summary(db, e.id) for e in page.items}
    return render_template("finance/credit_lines.html", page=page, q=q, lines=lines, summaries=summaries)


@bp.route("/enterprises/<int:enterprise_id>/credit-line", methods=["GET", "POST"])
@login_required
def credit_line(enterprise_id: int):
    authz.require("finance.view")
    db = get_session()
    enterprise = db.get(Enterprise, enterprise_id)
    if enterprise is None:
        abort(404)
    line = payment_services.credit_line_of(db, enterprise.id)
    form = CreditLineForm()
    refused = None  # the status of a refusal that belongs to no field (e.g. not verified: 403)
    if request.method == "GET" and line:
        form.limit.data = f"{Money(line.limit, line.currency).to_decimal():f}"
    if request.method == "POST":
        authz.require("finance.manage")
        if form.validate_on_submit():
            try:
                payment_services.set_credit_line(db, current_user, enterprise, form.limit.minor, form.reason.data,
                                                 ip_address=client_ip())
                db.commit()
            except DomainError as error:
                db.rollback()
                if not apply_domain_error(form, error):
                    flash(error.message, "error")
                    refused = error.status_code
            else:
                flash(_("Credit line of %(name)s set to %(amount)s.", name=enterprise.display_name,
                        amount=money_filter(form.limit.minor)), "success")
                return redirect(url_for("finance.credit_lines"))
    summary = payment_services.wallet_summary(db, enterprise.id)
    history = db.scalars(select(AuditEntry).where(AuditEntry.action == "credit_line.set",
                                                  AuditEntry.object_id == enterprise.id)
                         .order_by(AuditEntry.id.desc()).limit(20)).all()
    status = refused or (400 if form.errors else 200)
    # The wallet summary as the brand sees it, held money included (what finance weighs before granting credit).
    return render_template("finance/credit_line.html", enterprise=enterprise, form=form, line=line,
                           summary=summary, **wallet_holds(enterprise.id), history=history), status


from marketplace.finance import withdrawal_views  # noqa: E402,F401 - registers the withdrawal pages on ``bp``
