"""Serve stored files to the browser. Only views that have authorized the object a file belongs to call this."""

from __future__ import annotations

from flask import send_file

from marketplace.files.models import StoredFile
from marketplace.files.services import file_path


def send_stored_file(stored: StoredFile, *, frame_same_origin: bool = False, cache: str = "private, no-store"):
    """The file inline with its detected type; private caching by default; framable by our own pages only
    when ``frame_same_origin`` (document viewers)."""
    response = send_file(file_path(stored), mimetype=stored.content_type, download_name=stored.original_name,
                         as_attachment=False, max_age=0)
    response.headers["Cache-Control"] = cache
    response.frame_same_origin = frame_same_origin
    return response
