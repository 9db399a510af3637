"""Record audit entries. Called by services for every staff action (and other sensitive changes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.audit.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    ip_address: str = "",
) -> AuditEntry:
    """Append one audit entry to the session."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_role=(actor.staff_role or "user") if actor else "system",
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        reason=reason,
        ip_address=ip_address,
    )
    session.add(entry)
    session.flush()
    return entry
