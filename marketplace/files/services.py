"""Check and store uploads.

``store_upload`` reads at most ``max_bytes + 1`` bytes, detects the type from the content (``filetype``),
requires it to be one of ``allowed`` (MIME types), makes sure images really decode (Pillow), and only then
writes the file and its row. A refused upload writes nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path
from typing import BinaryIO

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from marketplace.errors import ValidationFailed
from marketplace.files.models import StoredFile

IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
DOCUMENT_TYPES = IMAGE_TYPES | {"application/pdf"}
_LABELS = {"image/png": "PNG", "image/jpeg": "JPEG", "application/pdf": "PDF", "image/webp": "WebP"}


def upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root


def detect_type(data: bytes) -> str | None:
    kind = filetype.guess(data[:8192])
    return kind.mime if kind else None


def _format_size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def check_upload(stream: BinaryIO, *, allowed: frozenset[str], max_bytes: int, field: str) -> tuple[bytes, str]:
    """Read and check an upload; return its bytes and detected MIME type.

    :raises ValidationFailed: empty, too large, or not one of the allowed types.
    """
    data = stream.read(max_bytes + 1)
    if not data:
        raise ValidationFailed(_l("The file is empty."), field=field)
    if len(data) > max_bytes:
        raise ValidationFailed(_l("The file is too large: at most %(size)s.", size=_format_size(max_bytes)), field=field)
    mime = detect_type(data)
    allowed_names = ", ".join(sorted(_LABELS.get(t, t) for t in allowed))
    if mime not in allowed:
        raise ValidationFailed(_l("This file is not an accepted type (%(types)s).", types=allowed_names), field=field)
    if mime in IMAGE_TYPES:
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ValidationFailed(_l("The image could not be read; it may be damaged."), field=field) from exc
    return data, mime


def store_bytes(session: Session, data: bytes, mime: str, original_name: str, uploaded_by_id: int | None) -> StoredFile:
    """Write checked bytes to the upload store and add their row."""
    key = f"{secrets.token_hex(2)}/{secrets.token_urlsafe(24)}"
    path = upload_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    stored = StoredFile(
        storage_key=key,
        original_name=(original_name or "upload")[:255],
        content_type=mime,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=uploaded_by_id,
    )
    session.add(stored)
    session.flush()
    return stored


def store_upload(session: Session, upload, *, allowed: frozenset[str], max_bytes: int, field: str,
                 uploaded_by_id: int | None) -> StoredFile:
    """Check a Werkzeug ``FileStorage`` and store it.

    :raises ValidationFailed: see ``check_upload``.
    """
    data, mime = check_upload(upload.stream, allowed=allowed, max_bytes=max_bytes, field=field)
    return store_bytes(session, data, mime, os.path.basename(upload.filename or "upload"), uploaded_by_id)


def file_path(stored: StoredFile) -> Path:
    return upload_root() / stored.storage_key
