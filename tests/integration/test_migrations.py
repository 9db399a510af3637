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
