"""The Alembic migrations build exactly the schema the models describe (no drift), on this backend."""

from sqlalchemy import inspect

from marketplace.db import database
from marketplace.migrations.drift import schema_drift
from marketplace.models import metadata


def test_migrations_match_models(app):
    with database(app).engine.connect() as connection:
        diff = schema_drift(connection)
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_model_table_comes_from_a_migration(app):
    tables = set(inspect(database(app).engine).get_table_names())
    assert set(metadata.tables) <= tables
    assert "alembic_version" in tables


def test_constraint_names_are_deterministic(app):
    inspector = inspect(database(app).engine)
    for table in metadata.sorted_tables:
        for fk in inspector.get_foreign_keys(table.name):
            assert fk["name"] and fk["name"].startswith(f"fk_{table.name}_"), (table.name, fk)
        for uq in inspector.get_unique_constraints(table.name):
            assert uq["name"] and uq["name"].startswith(f"uq_{table.name}_"), (table.name, uq)


def test_downgrade_and_upgrade_round_trip(tmp_root):
    """The migrations also go down cleanly and come back (a fresh database of its own)."""
    from alembic import command

    from marketplace.cli import alembic_config
    from tests.conftest import build_app, create_test_database

    app = build_app(create_test_database(tmp_root, "roundtrip"), tmp_root / "roundtrip")
    config = alembic_config(app)
    command.downgrade(config, "base")
    assert set(inspect(database(app).engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    with database(app).engine.connect() as connection:
        assert schema_drift(connection) == []
    database(app).engine.dispose()


def test_facet_token_backfill_writes_the_rows_the_app_writes(tmp_root):
    """Migration 3f6b8d2a9c17 gives creators indexed before it the category and region tokens the app writes
    for them now (``search_index.token_rows``): down removes them, up brings back exactly the same rows."""
    from alembic import command
    from sqlalchemy import select

    from marketplace.accounts.models import User
    from marketplace.cli import alembic_config
    from marketplace.creators.models import Creator, CreatorCategory, CreatorRegion
    from marketplace.creators.search_index import creator_tokens
    from tests.conftest import build_app, create_test_database

    app = build_app(create_test_database(tmp_root, "facet_tokens"), tmp_root / "facet_tokens")
    with app.app_context():
        session = database(app).write_session_factory()
        for n, (categories, regions, listed) in enumerate([(["beauty", "food"], ["44"], True), (["pets"], [], True),
                                                          (["travel"], ["31", "11"], False)]):
            user = User(email=f"facet-{n}@example.com", password_hash="!", display_name=f"美食家{n}")
            session.add(user)
            session.flush()
            session.add(Creator(user_id=user.id, display_name=f"美食家{n}", handle=f"foodie{n}", bio="日常 vlog",
                                listed=listed, followers=1000 * (n + 1), engagement_bp=300,
                                categories=[CreatorCategory(category=c) for c in categories],
                                regions=[CreatorRegion(region=r) for r in regions]))
        session.commit()
        session.close()

    def table():
        with database(app).engine.connect() as connection:
            return sorted(tuple(row) for row in connection.execute(select(creator_tokens)))

    written = table()
    facet_rows = {(row[0], row[1]) for row in written if row[0].startswith("#")}
    assert {token for token, _creator in facet_rows} == {"#c:beauty", "#c:food", "#r:44", "#c:pets"}  # listed only
    config = alembic_config(app)
    command.downgrade(config, "9e4a1c7b3d52")
    assert table() == [row for row in written if not row[0].startswith("#")]
    command.upgrade(config, "head")
    assert table() == written
    database(app).engine.dispose()
