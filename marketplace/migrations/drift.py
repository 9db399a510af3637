"""Compare the migrated schema with the models (used by ``flask db check`` and the drift test)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from marketplace.models import metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Compare everything but Alembic's own table and the backend-specific objects a module declared in
    ``metadata.info["unmanaged_prefixes"]`` (e.g. the search index's FTS5 tables and GIN indexes)."""
    if type_ == "table" and name == "alembic_version":
        return False
    if reflected and compare_to is None and name:
        return not name.startswith(tuple(metadata.info.get("unmanaged_prefixes", ())))
    return True


def schema_drift(connection) -> list:
    """Differences between the database behind ``connection`` and the models; empty when none."""
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_object": include_object},
    )
    return compare_metadata(context, metadata)
