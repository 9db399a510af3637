"""Compare the migrated schema with the models (used by ``flask db check`` and the drift test)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from marketplace.models import metadata


def schema_drift(connection) -> list:
    """Differences between the database behind ``connection`` and the models; empty when none."""
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": lambda obj, name, type_, reflected, compare_to: not (
                type_ == "table" and name == "alembic_version"
            ),
        },
    )
    return compare_metadata(context, metadata)
