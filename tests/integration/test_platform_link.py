"""Linking a creator's platform account and refreshing statistics, on a real database.

- Linking imports followers, works and 90 days of snapshots, and sets the search columns to the connector's
  own numbers (and the authenticity assessment of them).
- An invalid handle, or an account linked to another creator, is refused on the ``account`` field and writes
  nothing; linking the same account again is a no-op; another account replaces the first.
- The refresh job, run twice, or from two threads at once on a committed database, leaves one snapshot per
  creator and day and no duplicate works.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import func, select

from marketplace.creators import stats as creator_stats
from marketplace.creators.authenticity import assess
from marketplace.creators.models import Creator, CreatorCategory, PlatformAccount, StatSnapshot, Work
from marketplace.creators.services import become_creator
from marketplace.errors import ValidationFailed
from marketplace.jobs import REGISTRY, run_job
from marketplace.platform import get_connector
from marketplace.platform.sandbox import SandboxPlatform
from tests.concurrency import committed_app, in_new_transaction, race

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
_ids = count(1)


@pytest.fixture
def make_creator(session, make_user):
    def factory(handle: str | None = "auto", categories: tuple[str, ...] = ("beauty",)) -> Creator:
        creator = become_creator(session, make_user(signup_kind="creator"))
        creator.handle = f"creator{next(_ids)}" if handle == "auto" else handle
        creator.categories = [CreatorCategory(category=code) for code in categories]
        session.flush()
        return creator

    return factory


def counts(session, creator: Creator | None = None) -> tuple[int, int, int]:
    def n(model):
        query = select(func.count()).select_from(model)
        if creator is not None:
            query = query.where(model.creator_id == creator.id)
        return session.scalar(query)

    return n(PlatformAccount), n(Work), n(StatSnapshot)


def test_linking_imports_the_connectors_numbers(app, session, make_creator):
    creator = make_creator(categories=("beauty", "fashion"))
    account = creator_stats.link_platform_account(session, creator, "@lily_beauty_23", now=NOW)

    sandbox = SandboxPlatform(seed=app.config["PLATFORM_SANDBOX_SEED"])
    expected = sandbox.account_stats("lily_beauty_23", now=NOW)
    works = sandbox.list_works("lily_beauty_23", limit=30, now=NOW)
    assert (account.platform, account.external_id, account.handle) == ("sandbox", "lily_beauty_23", "@lily_beauty_23")
    assert account.creator_id == creator.id and account.refreshed_at == NOW

    session.expire_all()
    creator = session.get(Creator, creator.id)
    assert creator.platform_account.id == account.id
    assert creator.followers == expected.followers > 0
    assert creator.avg_plays == expected.avg_plays > 0
    assert creator.engagement_bp == expected.engagement_bp > 0
    assert creator.audience == expected.audience
    assert creator.audience_female_pct == expected.audience["gender"]["female"]
    assert creator.audience_main_age == max(expected.audience["age"], key=expected.audience["age"].get)
    assessment = assess(expected, works, "beauty")
    assert creator.authenticity_score == assessment.score
    assert creator.authenticity_reasons == assessment.reasons_json()
    assert creator.stats_refreshed_at == NOW and creator.updated_at == NOW
    assert creator.listed is True

    stored = {w.external_id: w for w in session.scalars(select(Work).where(Work.creator_id == creator.id))}
    assert set(stored) == {w.external_id for w in works} and len(stored) == 30
    for work in works:
        row = stored[work.external_id]
        assert (row.url, row.title, row.category, row.published_at, row.plays, row.likes, row.comments,
                row.shares, row.is_live, row.platform) == (
            work.url, work.title, work.category, work.published_at, work.plays, work.likes, work.comments,
            work.shares, work.is_live, "sandbox")

    snapshots = session.scalars(select(StatSnapshot).where(StatSnapshot.creator_id == creator.id)
                                .order_by(StatSnapshot.taken_on)).all()
    assert [(s.taken_on, s.followers) for s in snapshots] == expected.follower_history
    assert (snapshots[-1].avg_plays, snapshots[-1].engagement_bp) == (expected.avg_plays, expected.engagement_bp)


def test_a_profile_url_links_too_and_listing_needs_a_complete_profile(session, make_creator):
    creator = make_creator(handle=None, categories=())
    creator_stats.link_platform_account(session, creator, "https://sandbox.video/@ajie_car_88", now=NOW)
    assert creator.platform_account.handle == "@ajie_car_88"
    assert creator.followers > 0 and creator.listed is False  # no handle, no category yet
    creator.handle = "ajie"
    creator.categories = [CreatorCategory(category="auto")]
    creator_stats.refresh_creator_stats(session, creator, now=NOW + timedelta(hours=1))
    assert creator.listed is True


@pytest.mark.parametrize("identifier", ["@x", "not a handle!", "https://example.com/@abc_def", "@米娅", ""])
def test_an_invalid_handle_is_refused_and_writes_nothing(session, make_creator, identifier):
    creator = make_creator()
    before = counts(session)
    with pytest.raises(ValidationFailed) as refused:
        creator_stats.link_platform_account(session, creator, identifier, now=NOW)
    assert refused.value.field == "account"
    assert "could not find" in str(refused.value.message)
    assert counts(session) == before
    assert creator.followers == 0 and creator.stats_refreshed_at is None and creator.listed is False


def test_an_account_linked_to_another_creator_is_refused_and_writes_nothing(session, make_creator):
    first, second = make_creator(), make_creator()
    creator_stats.link_platform_account(session, first, "@shared_meishi", now=NOW)
    before = counts(session)
    for identifier in ("@shared_meishi", "@SHARED_MEISHI", "https://sandbox.video/@shared_meishi"):
        with pytest.raises(ValidationFailed) as refused:
            creator_stats.link_platform_account(session, second, identifier, now=NOW)
        assert refused.value.field == "account"
        assert "another creator" in str(refused.value.message)
    assert counts(session) == before
    assert counts(session, second) == (0, 0, 0)
    assert second.followers == 0 and second.stats_refreshed_at is None
    assert session.scalar(select(PlatformAccount.creator_id).where(
        PlatformAccount.external_id == "shared_meishi")) == first.id


def test_linking_the_same_account_again_is_a_no_op(session, make_creator):
    creator = make_creator()
    account = creator_stats.link_platform_account(session, creator, "@momo_vlog", now=NOW)
    before = counts(session, creator)
    again = creator_stats.link_platform_account(session, creator, "https://sandbox.video/@momo_vlog",
                                                now=NOW + timedelta(days=2))
    assert again.id == account.id
    assert counts(session, creator) == before == (1, 30, 90)
    assert creator.stats_refreshed_at == NOW


def test_another_account_replaces_the_linked_one(session, make_creator):
    creator = make_creator()
    first = creator_stats.link_platform_account(session, creator, "@momo_vlog", now=NOW)
    second = creator_stats.link_platform_account(session, creator, "@nana_travel", now=NOW + timedelta(hours=2))
    assert second.id == first.id and second.external_id == "nana_travel"
    urls = session.scalars(select(Work.url).where(Work.creator_id == creator.id)).all()
    assert len(urls) == 30 and all("/@nana_travel/" in url for url in urls)
    expected = SandboxPlatform(2026).account_stats("nana_travel", now=NOW + timedelta(hours=2))
    snapshots = session.scalars(select(StatSnapshot).where(StatSnapshot.creator_id == creator.id)
                                .order_by(StatSnapshot.taken_on)).all()
    assert [(s.taken_on, s.followers) for s in snapshots] == expected.follower_history
    assert creator.followers == expected.followers


def test_the_refresh_job_run_twice_keeps_one_snapshot_a_day(session, make_creator):
    creators = [make_creator() for _ in range(3)]
    for i, creator in enumerate(creators):
        creator_stats.link_platform_account(session, creator, f"@refresh_{i}_food", now=NOW)
    unlinked = make_creator()

    later = NOW + timedelta(days=2, hours=3)
    assert creator_stats.refresh_stale_stats(session, later) == 3
    assert creator_stats.refresh_stale_stats(session, later) == 0  # nothing stale any more
    assert creator_stats.refresh_stale_stats(session, later + timedelta(hours=20)) == 0  # not a day old yet
    for i, creator in enumerate(creators):
        session.refresh(creator)
        days = session.scalars(select(StatSnapshot.taken_on).where(StatSnapshot.creator_id == creator.id)
                               .order_by(StatSnapshot.taken_on)).all()
        assert len(days) == len(set(days)) == 92  # 90 at link time, then the day between and today
        assert days[-1] == later.date() and days[-2] == later.date() - timedelta(days=1)
        expected = SandboxPlatform(2026).account_stats(f"refresh_{i}_food", now=later)
        assert creator.followers == expected.followers and creator.stats_refreshed_at == later
        external_ids = session.scalars(select(Work.external_id).where(Work.creator_id == creator.id)).all()
        assert len(external_ids) == len(set(external_ids))
        latest = SandboxPlatform(2026).list_works(f"refresh_{i}_food", now=later)
        assert {w.external_id for w in latest} <= set(external_ids)
        row = session.scalar(select(Work).where(Work.external_id == latest[-1].external_id))
        assert row.plays == latest[-1].plays and row.refreshed_at == later
    assert counts(session, unlinked) == (0, 0, 0) and unlinked.stats_refreshed_at is None

    # The same day again (a manual refresh): today's snapshot is updated, not duplicated.
    creator_stats.refresh_creator_stats(session, creators[0], now=later + timedelta(hours=1))
    assert counts(session, creators[0])[2] == 92


def test_the_job_is_registered():
    job = REGISTRY["creators.refresh_stats"]
    assert job.function is creator_stats.refresh_stale_stats
    assert job.every_seconds == 6 * 3600


def test_the_same_handle_gives_the_same_numbers_from_two_connectors(app):
    one, two = get_connector(app.config), get_connector(dict(app.config))
    assert one is not two
    for handle in ("lily_beauty_23", "fake_likes_yummy"):
        assert one.account_stats(handle, now=NOW) == two.account_stats(handle, now=NOW)
        assert one.list_works(handle, now=NOW) == two.list_works(handle, now=NOW)
        assert one.lookup_account("@" + handle) == two.lookup_account("@" + handle)


# --- concurrency on a committed database ------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed(tmp_root):
    with committed_app(tmp_root, "platform") as app:
        yield app


def new_creators(app, n: int, tag: str) -> list[int]:
    from marketplace.accounts.services import create_user
    from tests.conftest import PASSWORD

    def work(session):
        ids = []
        for i in range(n):
            user = create_user(session, email=f"{tag}{i}@example.com", password=PASSWORD,
                               display_name=f"Creator {tag} {i}", signup_kind="creator", verified=True)
            creator = become_creator(session, user)
            creator.handle = f"{tag}{i}"
            creator.categories = [CreatorCategory(category="food")]
            session.flush()
            ids.append(creator.id)
        return ids

    return in_new_transaction(app, work)


def test_the_refresh_job_from_two_threads_refreshes_each_creator_once(committed):
    app = committed
    ids = new_creators(app, 7, "jobrace")

    def link_all(session):
        for i, creator_id in enumerate(ids):
            creator_stats.link_platform_account(session, session.get(Creator, creator_id), f"@jobrace_{i}_chef",
                                                now=NOW)

    in_new_transaction(app, link_all)
    later = NOW + timedelta(days=2)
    outcomes = race([lambda: run_job(app, "creators.refresh_stats", now=later)] * 2)
    assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
    assert sum(result for _, result in outcomes) == len(ids)  # each creator refreshed by one runner only
    assert run_job(app, "creators.refresh_stats", now=later) == 0

    def check(session):
        for creator_id in ids:
            days = session.scalars(select(StatSnapshot.taken_on).where(StatSnapshot.creator_id == creator_id)).all()
            assert len(days) == len(set(days)) == 92
            works = session.scalars(select(Work.external_id).where(Work.creator_id == creator_id)).all()
            assert len(works) == len(set(works)) >= 30
            assert session.get(Creator, creator_id).stats_refreshed_at == later

    in_new_transaction(app, check)


def test_two_refreshes_of_one_creator_at_once_leave_one_row_each(committed):
    app = committed
    [creator_id] = new_creators(app, 1, "samerace")
    in_new_transaction(app, lambda s: creator_stats.link_platform_account(
        s, s.get(Creator, creator_id), "@samerace_pets", now=NOW))
    later = NOW + timedelta(days=1, hours=1)

    def refresh():
        return in_new_transaction(app, lambda s: creator_stats.refresh_creator_stats(
            s, s.get(Creator, creator_id), now=later))

    outcomes = race([refresh] * 4)
    assert outcomes == [("ok", True)] * 4

    def check(session):
        days = session.scalars(select(StatSnapshot.taken_on).where(StatSnapshot.creator_id == creator_id)).all()
        assert len(days) == len(set(days)) == 91
        works = session.scalars(select(Work.external_id).where(Work.creator_id == creator_id)).all()
        assert len(works) == len(set(works))

    in_new_transaction(app, check)


def test_two_creators_linking_one_account_at_once_one_wins(committed):
    app = committed
    ids = new_creators(app, 4, "linkrace")

    def link(creator_id: int) -> Callable:
        return lambda: in_new_transaction(app, lambda s: creator_stats.link_platform_account(
            s, s.get(Creator, creator_id), "@contested_beauty", now=NOW).creator_id)

    outcomes = race([link(i) for i in ids])
    winners = [value for status, value in outcomes if status == "ok"]
    refused = [value for status, value in outcomes if status == "error"]
    assert len(winners) == 1 and len(refused) == 3
    assert all(isinstance(e, ValidationFailed) and e.field == "account" for e in refused), refused

    def check(session):
        holders = session.scalars(select(PlatformAccount.creator_id).where(
            PlatformAccount.external_id == "contested_beauty")).all()
        assert holders == winners
        for creator_id in ids:
            works = session.scalar(select(func.count()).select_from(Work).where(Work.creator_id == creator_id))
            assert works == (30 if creator_id == winners[0] else 0)

    in_new_transaction(app, check)


def test_one_creator_linking_one_account_twice_at_once_gets_one_link(committed):
    app = committed
    [creator_id] = new_creators(app, 1, "doublesubmit")

    def link():
        return in_new_transaction(app, lambda s: creator_stats.link_platform_account(
            s, s.get(Creator, creator_id), "@doublesubmit_cat", now=NOW).id)

    outcomes = race([link, link])
    assert [status for status, _ in outcomes] == ["ok", "ok"], outcomes
    assert len({value for _, value in outcomes}) == 1

    def check(session):
        assert counts(session, session.get(Creator, creator_id)) == (1, 30, 90)

    in_new_transaction(app, check)
