"""Pure helpers: redirects, pagination, password strength, tokens, USCC/tax numbers, configuration."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as uscc_std

from marketplace.config import ConfigError, load_config
from marketplace.enterprises.services import clean_tax_number, clean_uscc
from marketplace.errors import ValidationFailed
from marketplace.forms import safe_next
from marketplace.main.templating import Page
from marketplace.security import MIN_PASSWORD_LENGTH, new_token, password_problem, token_digest

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALID_USCC = "91110000600037341L"  # the example in python-stdnum's documentation
SECRET = "s" * 40

# --- safe_next ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/", "/dashboard", "/enterprises/3/members?tab=invites#top", "/a//b"])
def test_safe_next_accepts_local_paths(target):
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "http://evil.example/dashboard",
        "//evil.example/dashboard",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/dashboard\\..\\x",
        "javascript:alert(1)",
        "dashboard",
        "evil.example/dashboard",
    ],
)
def test_safe_next_rejects_anything_else(target):
    assert safe_next(target) is None


# --- Page ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "per_page", "pages"), [(0, 20, 1), (1, 20, 1), (20, 20, 1), (21, 20, 2),
                                                         (100, 10, 10), (101, 10, 11)])
def test_page_count(total, per_page, pages):
    assert Page([], 1, per_page, total).pages == pages


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (1, [1, 2, 3, None, 10]),
        (4, [1, 2, 3, 4, 5, 6, None, 10]),
        (5, [1, None, 3, 4, 5, 6, 7, None, 10]),
        (9, [1, None, 7, 8, 9, 10]),
        (10, [1, None, 8, 9, 10]),
    ],
)
def test_page_window_elides_gaps(page, expected):
    assert Page([], page, 10, 100).window() == expected


def test_page_window_sizes_and_single_page():
    assert Page([], 5, 10, 100).window(size=1) == [1, None, 4, 5, 6, None, 10]
    assert Page([], 1, 20, 0).window() == [1]
    assert Page([], 2, 10, 30).window() == [1, 2, 3]


@pytest.mark.parametrize(("page", "has_prev", "has_next"), [(1, False, True), (2, True, True), (3, True, False)])
def test_page_prev_next(page, has_prev, has_next):
    p = Page(["x"], page, 10, 25)
    assert (p.has_prev, p.has_next) == (has_prev, has_next)


# --- passwords and tokens -----------------------------------------------------------------------------


def test_short_password_is_refused():
    assert str(password_problem("Tq9!zv#1")) == f"Use at least {MIN_PASSWORD_LENGTH} characters."
    assert password_problem("x" * 9) is not None


def test_overlong_password_is_refused():
    assert str(password_problem("correct horse battery staple " * 9)) == "Use at most 256 characters."


def test_password_containing_the_email_local_part_is_refused():
    problem = password_problem("adalovelace Quartz 77 meadow", ["adalovelace@example.com", "Ada"])
    assert str(problem) == "Don't use your name or email address in your password."
    # Case does not help.
    assert password_problem("ADALOVELACE Quartz 77 meadow", ["adalovelace@example.com"]) is not None
    # Short local parts (fewer than 4 characters) are not checked by substring.
    assert password_problem("violin meadow quartz 8813 abc", ["abc@example.com"]) is None


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop123", "iloveyou2024", "1234567890"])
def test_common_password_is_refused(password):
    assert str(password_problem(password)) == \
        "This password is too easy to guess. Add more words or mix in unusual ones."


@pytest.mark.parametrize("password", ["correct horse battery staple 42", "quartz meadow violin 8813"])
def test_strong_password_is_accepted(password):
    assert password_problem(password, ["someone@example.com", "Someone"]) is None


def test_new_token_and_digest():
    token, digest = new_token()
    assert digest == token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(digest) == 64 and len(token) >= 43
    assert all(c.isalnum() or c in "-_" for c in token)  # URL-safe
    assert token_digest(token) != token_digest(token + "x")
    assert len({new_token()[0] for _ in range(50)}) == 50


# --- USCC and taxpayer numbers ------------------------------------------------------------------------


def test_clean_uscc_accepts_a_valid_code():
    assert clean_uscc(VALID_USCC) == VALID_USCC


def test_clean_uscc_normalises_case_and_spaces():
    assert clean_uscc("  91110000600037341l ") == VALID_USCC
    assert clean_uscc("9111 0000 6000 3734 1L") == VALID_USCC


@pytest.mark.parametrize(
    "value",
    [
        VALID_USCC[:-1] + "M",  # wrong check digit
        VALID_USCC[:-1],  # 17 characters
        VALID_USCC + "0",  # 19 characters
        "A1110000600037341L",  # letter in the numeric prefix
        "91110000600037341I",  # I is not in the alphabet
        "",
    ],
)
def test_clean_uscc_refuses_bad_codes(value):
    with pytest.raises(ValidationFailed) as caught:
        clean_uscc(value)
    assert caught.value.field == "uscc"


def test_clean_tax_number():
    assert clean_tax_number(VALID_USCC.lower()) == VALID_USCC
    assert clean_tax_number(" 110108 123456789 ") == "110108123456789"  # legacy 15 characters
    with pytest.raises(ValidationFailed) as bad_check:  # 18 characters go through the USCC check ...
        clean_tax_number(VALID_USCC[:-1] + "M")
    assert bad_check.value.field == "tax_number"  # ... and the error belongs to the tax number field


@pytest.mark.parametrize("value", ["1234567890123456", "12345", "税号税号税号税号税号税号税号税号", "110108-12345678", ""])
def test_clean_tax_number_refuses_other_shapes(value):
    with pytest.raises(ValidationFailed) as caught:
        clean_tax_number(value)
    assert caught.value.field == "tax_number"


# 8 digits (registering authority, entity type, region) then 9 characters of the organisation code: the shape
# GB 32100-2015 codes have, and the one the validator requires.
bodies = st.builds(
    lambda prefix, organisation: prefix + organisation,
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
)


@settings(max_examples=300, deadline=None)
@given(body=bodies, wrong=st.sampled_from(USCC_ALPHABET))
def test_check_digit_property(body, wrong):
    check = uscc_std.calc_check_digit(body)
    assert clean_uscc(body + check) == body + check
    assert clean_uscc((body + check).lower()) == body + check
    if wrong != check:
        with pytest.raises(ValidationFailed):
            clean_uscc(body + wrong)


@settings(max_examples=100, deadline=None)
@given(body=bodies)
def test_exactly_one_check_character_is_valid(body):
    valid = []
    for last in USCC_ALPHABET:
        try:
            clean_uscc(body + last)
        except ValidationFailed:
            continue
        valid.append(last)
    assert valid == [uscc_std.calc_check_digit(body)]


# --- configuration ------------------------------------------------------------------------------------


def prod(**extra) -> dict[str, str]:
    return {"CANAL_ENV": "production", "SECRET_KEY": SECRET,
            "DATABASE_URL": "postgresql+psycopg://canal@db/canal", **extra}


def test_bad_canal_env_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="CANAL_ENV must be one of"):
        load_config(tmp_path, {"CANAL_ENV": "staging"})


def test_production_needs_a_secret_key(tmp_path):
    env = prod()
    del env["SECRET_KEY"]
    with pytest.raises(ConfigError, match="SECRET_KEY must be set in production"):
        load_config(tmp_path, env)
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_config(tmp_path, prod(SECRET_KEY="short"))
    assert not (tmp_path / "secret_key").exists()  # no development secret was made up


def test_production_needs_a_database_url(tmp_path):
    env = prod()
    del env["DATABASE_URL"]
    with pytest.raises(ConfigError, match="DATABASE_URL must be set in production"):
        load_config(tmp_path, env)


def test_production_defaults_are_strict(tmp_path):
    config = load_config(tmp_path, prod())
    assert config["SESSION_COOKIE_SECURE"] is True and config["REMEMBER_COOKIE_SECURE"] is True
    assert config["JOBS_IN_PROCESS"] is False
    assert config["TESTING"] is False and config["DEBUG"] is False


def test_development_defaults(tmp_path):
    config = load_config(tmp_path, {})
    assert config["CANAL_ENV"] == "development"
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'canal.db'}"
    assert len(config["SECRET_KEY"]) >= 32
    assert load_config(tmp_path, {})["SECRET_KEY"] == config["SECRET_KEY"]  # kept in the instance folder
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["MAIL_BACKEND"] == "console"


@pytest.mark.parametrize("backend", ["carrier-pigeon", "SMTP", "sendmail"])
def test_bad_mail_backend_is_refused(tmp_path, backend):
    with pytest.raises(ConfigError, match="MAIL_BACKEND must be 'console' or 'smtp'"):
        load_config(tmp_path, {"SECRET_KEY": SECRET, "MAIL_BACKEND": backend})


def test_smtp_backend_needs_a_host(tmp_path):
    with pytest.raises(ConfigError, match="needs SMTP_HOST"):
        load_config(tmp_path, {"SECRET_KEY": SECRET, "MAIL_BACKEND": "smtp"})
    assert load_config(tmp_path, {"SECRET_KEY": SECRET, "SMTP_HOST": "mail.example"})["MAIL_BACKEND"] == "smtp"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("yes", True), (" on ", True),
     ("0", False), ("false", False), ("No", False), ("off", False), ("", False)],
)
def test_boolean_parsing(tmp_path, raw, expected):
    assert load_config(tmp_path, {"SECRET_KEY": SECRET, "SQL_ECHO": raw})["SQL_ECHO"] is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "y e s", "enabled"])
def test_bad_boolean_is_refused(tmp_path, raw):
    with pytest.raises(ConfigError, match="expected a boolean"):
        load_config(tmp_path, {"SECRET_KEY": SECRET, "SQL_ECHO": raw})


def test_boolean_default_follows_the_environment(tmp_path):
    assert load_config(tmp_path, prod(SESSION_COOKIE_SECURE="false"))["SESSION_COOKIE_SECURE"] is False
    assert load_config(tmp_path, {"SECRET_KEY": SECRET, "SESSION_COOKIE_SECURE": "on"})["SESSION_COOKIE_SECURE"]


def test_other_config_values(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL must be"):
        load_config(tmp_path, {"SECRET_KEY": SECRET, "DATABASE_URL": "mysql://db/canal"})
    assert load_config(tmp_path, {"SECRET_KEY": SECRET, "DATABASE_URL": "postgres://u@db/canal"})[
        "DATABASE_URL"] == "postgresql+psycopg://u@db/canal"
    with pytest.raises(ConfigError, match="LICENCE_MAX_MB must be a whole number"):
        load_config(tmp_path, {"SECRET_KEY": SECRET, "LICENCE_MAX_MB": "five"})
    with pytest.raises(ConfigError, match="INVITE_DAYS must be at least 1"):
        load_config(tmp_path, {"SECRET_KEY": SECRET, "INVITE_DAYS": "0"})
    with pytest.raises(ConfigError, match="CANAL_DEFAULT_LOCALE"):
        load_config(tmp_path, {"SECRET_KEY": SECRET, "CANAL_DEFAULT_LOCALE": "fr"})
