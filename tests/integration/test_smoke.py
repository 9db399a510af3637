"""The app starts on the migrated database and serves its public pages."""

from sqlalchemy import func, select

from marketplace.accounts.models import User


def test_public_pages_render(client):
    for path in ("/", "/login", "/signup", "/password/forgot", "/healthz"):
        assert client.get(path).status_code == 200, path


def test_signup_creates_user_and_queues_verification(client, session, post_form):
    from marketplace.mail.models import OutboxEmail

    response = post_form("/signup", {"kind": "brand", "display_name": "Ada", "email": "Ada@Example.com",
                                     "password": "tangerine orbit lantern 77"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    user = session.scalar(select(User).where(User.email == "ada@example.com"))
    assert user is not None and user.email_verified_at is None
    mails = session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "ada@example.com")).all()
    assert [m.kind for m in mails] == ["verify_email"]
    assert "http://canal.test/verify-email/" in mails[0].body_text


def test_isolation_between_tests(session):
    assert session.scalar(select(func.count()).select_from(User).where(User.email == "ada@example.com")) == 0
