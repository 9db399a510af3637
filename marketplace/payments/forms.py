"""Top-up and credit-line forms (shape only; amounts are parsed exactly: query_forms.parse_yuan)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from marketplace.query_forms import FilterError, parse_yuan


class AmountField(StringField):
    """An amount in yuan typed by a person ("1,000", "¥1000.50"), exposed as ``minor`` (int fen)."""

    minor: int | None = None

    def pre_validate(self, form):
        self.minor = None
        if not self.data:
            return
        try:
            self.minor = parse_yuan(self.data)
        except FilterError as error:
            raise ValidationError(error.message) from None


class TopUpForm(FlaskForm):
    amount = AmountField(_l("Amount (CNY)"), validators=[DataRequired()],
                         description=_l("At least ¥100."), render_kw={"inputmode": "decimal"})


class ConfirmBankTopUpForm(FlaskForm):
    amount_received = AmountField(_l("Amount received (CNY)"), validators=[DataRequired()],
                                  description=_l("Exactly what the bank statement shows."),
                                  render_kw={"inputmode": "decimal"})
    note = StringField(_l("Note"), validators=[Length(max=500)])


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[Length(max=500)])


class CreditLineForm(FlaskForm):
    limit = AmountField(_l("Credit limit (CNY)"), validators=[DataRequired()],
                        description=_l("0 revokes the credit line. Usage is billed on the monthly statement."),
                        render_kw={"inputmode": "decimal"})
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=5, max=1000)])


class WithdrawalForm(FlaskForm):
    """A withdrawal request: how much, and the enterprise's bank account it goes to (rules: ``withdrawals``)."""

    request_key = HiddenField(validators=[DataRequired(), Length(min=16, max=64)])
    amount = AmountField(_l("Amount (CNY)"), validators=[DataRequired()], render_kw={"inputmode": "decimal"})
    account_name = StringField(_l("Account name"), validators=[DataRequired(), Length(max=200)],
                               description=_l("The enterprise's registered name, exactly as the bank holds it."))
    bank_name = StringField(_l("Bank and branch"), validators=[DataRequired(), Length(min=2, max=120)],
                            description=_l("For example: China Merchants Bank, Shanghai Lujiazui Branch"))
    account_number = StringField(_l("Account number"), validators=[DataRequired(), Length(max=60)],
                                 render_kw={"inputmode": "numeric", "autocomplete": "off"})


class PayWithdrawalForm(FlaskForm):
    bank_reference = StringField(_l("Bank transfer reference"), validators=[DataRequired(), Length(max=80)])


class RejectWithdrawalForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
