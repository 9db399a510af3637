"""Shortlists: named lists of creators an enterprise keeps while choosing, and the side-by-side comparison.

Invariants:
- a shortlist belongs to one enterprise; its members see it and its owners/managers change it (authz decides,
  these functions do not know who asks);
- a creator appears at most once per shortlist (unique constraint; adding again is a no-op), only listed
  creators can be added, and a list holds at most ``MAX_ENTRIES``;
- names are 1–80 characters, unique within the enterprise (case-insensitively);
- the comparison shows at most ``MAX_COMPARE`` listed creators.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, true
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.creators.models import Creator, Shortlist, ShortlistEntry
from marketplace.enterprises.models import Enterprise
from marketplace.errors import Conflict, NotFound, ValidationFailed

MAX_ENTRIES = 200
MAX_COMPARE = 4
MAX_NAME = 80
MAX_NOTE = 500


def _clean_name(session: Session, enterprise_id: int, name: str, exclude_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_l("Give the shortlist a name."), field="name")
    if len(name) > MAX_NAME:
        raise ValidationFailed(_l("At most %(n)d characters.", n=MAX_NAME), field="name")
    clash = select(Shortlist.id).where(Shortlist.enterprise_id == enterprise_id,
                                       func.lower(Shortlist.name) == name.lower())
    if exclude_id is not None:
        clash = clash.where(Shortlist.id != exclude_id)
    if session.scalar(clash) is not None:
        raise Conflict(_l("There is already a shortlist called “%(name)s”.", name=name), field="name")
    return name


def shortlists_of(session: Session, enterprise_id: int) -> list[tuple[Shortlist, int]]:
    """The enterprise's shortlists, newest first, each with its number of creators."""
    counts = (select(ShortlistEntry.shortlist_id, func.count().label("n"))
              .group_by(ShortlistEntry.shortlist_id).subquery())
    rows = session.execute(
        select(Shortlist, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.shortlist_id == Shortlist.id)
        .where(Shortlist.enterprise_id == enterprise_id)
        .order_by(Shortlist.created_at.desc(), Shortlist.id.desc())
    ).all()
    return [(shortlist, count) for shortlist, count in rows]


def shortlist_choices(session: Session, enterprise_id: int) -> list[Shortlist]:
    """The enterprise's shortlists to add a creator to, newest first."""
    return list(session.scalars(select(Shortlist).where(Shortlist.enterprise_id == enterprise_id)
                                .order_by(Shortlist.created_at.desc(), Shortlist.id.desc())))


def create_shortlist(session: Session, user: User, enterprise: Enterprise, name: str) -> Shortlist:
    """Create a shortlist for ``enterprise``. :raises ValidationFailed, Conflict:"""
    shortlist = Shortlist(enterprise_id=enterprise.id, name=_clean_name(session, enterprise.id, name),
                          created_by_id=user.id)
    session.add(shortlist)
    session.flush()
    return shortlist


def default_shortlist_name(session: Session, enterprise_id: int) -> str:
    """"Shortlist", or "Shortlist 2", "Shortlist 3"… — the first name not taken."""
    taken = {n.lower() for n in session.scalars(select(Shortlist.name).where(Shortlist.enterprise_id == enterprise_id))}
    base = str(_l("Shortlist"))
    n = 1
    while (name := base if n == 1 else f"{base} {n}").lower() in taken:
        n += 1
    return name


def default_shortlist(session: Session, user: User, enterprise: Enterprise) -> Shortlist:
    """The enterprise's list named "Shortlist" (in the user's language), created on first use — what a result
    card adds to while the enterprise has no list (every card then adds to the same one)."""
    name = str(_l("Shortlist"))
    found = session.scalar(select(Shortlist).where(Shortlist.enterprise_id == enterprise.id,
                                                   func.lower(Shortlist.name) == name.lower()))
    return found or create_shortlist(session, user, enterprise, name)


def rename_shortlist(session: Session, shortlist: Shortlist, name: str) -> None:
    """Rename ``shortlist``. :raises ValidationFailed, Conflict:"""
    shortlist.name = _clean_name(session, shortlist.enterprise_id, name, exclude_id=shortlist.id)
    session.flush()


def delete_shortlist(session: Session, shortlist: Shortlist) -> None:
    """Delete ``shortlist`` and its entries (the creators are untouched)."""
    session.delete(shortlist)
    session.flush()


def add_to_shortlist(session: Session, user: User, shortlist: Shortlist, creator_id: int,
                     note: str = "") -> tuple[ShortlistEntry, bool]:
    """Put a listed creator on ``shortlist``; return the entry and whether it is new.

    :raises NotFound: no listed creator with this id. :raises ValidationFailed: the list is full.
    """
    creator = session.get(Creator, creator_id)
    if creator is None or not creator.listed:
        raise NotFound(_l("This creator is not available."), field="creator_id")
    entry = session.scalar(select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id,
                                                        ShortlistEntry.creator_id == creator_id))
    if entry is not None:
        return entry, False
    size = session.scalar(select(func.count()).select_from(ShortlistEntry)
                          .where(ShortlistEntry.shortlist_id == shortlist.id)) or 0
    if size >= MAX_ENTRIES:
        raise ValidationFailed(_l("A shortlist holds at most %(n)d creators.", n=MAX_ENTRIES))
    entry = ShortlistEntry(shortlist_id=shortlist.id, creator_id=creator_id, note=_clean_note(note),
                           added_by_id=user.id)
    session.add(entry)
    session.flush()
    return entry, True


def remove_from_shortlist(session: Session, shortlist: Shortlist, creator_id: int) -> bool:
    """Take a creator off ``shortlist``; return whether they were on it."""
    result = session.execute(delete(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id,
                                                          ShortlistEntry.creator_id == creator_id))
    session.expire(shortlist, ["entries"])
    return bool(result.rowcount)


def _clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed(_l("At most %(n)d characters.", n=MAX_NOTE), field="note")
    return note


def set_entry_note(session: Session, shortlist: Shortlist, creator_id: int, note: str) -> ShortlistEntry:
    """Replace the note on a shortlist entry. :raises NotFound, ValidationFailed:"""
    entry = session.scalar(select(ShortlistEntry).where(ShortlistEntry.shortlist_id == shortlist.id,
                                                        ShortlistEntry.creator_id == creator_id))
    if entry is None:
        raise NotFound(_l("This creator is not on the shortlist."))
    entry.note = _clean_note(note)
    session.flush()
    return entry


def shortlisted_in(session: Session, enterprise_id: int, creator_ids: list[int]) -> dict[int, list[Shortlist]]:
    """For each of these creators, the enterprise's shortlists they are on."""
    if not creator_ids:
        return {}
    found: dict[int, list[Shortlist]] = {}
    rows = session.execute(select(ShortlistEntry.creator_id, Shortlist)
                           .join(Shortlist, Shortlist.id == ShortlistEntry.shortlist_id)
                           .where(Shortlist.enterprise_id == enterprise_id,
                                  ShortlistEntry.creator_id.in_(creator_ids))
                           .order_by(Shortlist.name))
    for creator_id, shortlist in rows:
        found.setdefault(creator_id, []).append(shortlist)
    return found


def parse_compare_ids(values: list[str]) -> list[int]:
    """Creator ids from ``?ids=1,2,3`` and/or ``?ids=1&ids=2`` (order kept, duplicates dropped).

    :raises ValidationFailed: not ids, none, or more than ``MAX_COMPARE``.
    """
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or len(part) > 12:
                raise ValidationFailed(_l("“%(value)s” is not a creator id.", value=part[:20]))
            if int(part) not in ids:
                ids.append(int(part))
    if len(ids) < 1:
        raise ValidationFailed(_l("Choose up to four creators to compare."))
    if len(ids) > MAX_COMPARE:
        raise ValidationFailed(_l("You can compare at most %(n)d creators at a time; you chose %(count)d.",
                                  n=MAX_COMPARE, count=len(ids)))
    return ids


def creators_to_compare(session: Session, ids: list[int]) -> list[Creator]:
    """The listed creators with these ids, in this order. :raises NotFound: an id is unknown or unlisted."""
    found = {c.id: c for c in session.scalars(select(Creator).where(Creator.id.in_(ids), Creator.listed == true()))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(_l("No listed creator with id %(ids)s.", ids=", ".join(map(str, missing))))
    return [found[i] for i in ids]
