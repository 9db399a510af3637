"""Creator records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.creators.models import Creator


def creator_for_user(session: Session, user: User) -> Creator | None:
    return session.scalar(select(Creator).where(Creator.user_id == user.id))


def become_creator(session: Session, user: User) -> Creator:
    """Give ``user`` a creator record (idempotent)."""
    creator = creator_for_user(session, user)
    if creator is None:
        creator = Creator(user_id=user.id, display_name=user.display_name)
        session.add(creator)
        session.flush()
    return creator
