"""Read text out of rendered pages (stdlib only): the error beside a field, the alerts, any element by class/id."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Collector(HTMLParser):
    def __init__(self, predicate):
        super().__init__(convert_charrefs=True)
        self.predicate = predicate
        self.depth = 0
        self.open: list[tuple[int, list[str]]] = []
        self.found: list[str] = []
        self.inputs: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = {k: (v or "") for k, v in attrs}
        if tag == "input":
            self.inputs.append(attributes)
        if tag in _VOID:
            return
        self.depth += 1
        if self.predicate(tag, attributes):
            self.open.append((self.depth, []))

    def handle_startendtag(self, tag, attrs):
        if tag == "input":
            self.inputs.append({k: (v or "") for k, v in attrs})

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        if self.open and self.open[-1][0] == self.depth:
            _, chunks = self.open.pop()
            self.found.append(" ".join("".join(chunks).split()))
        self.depth -= 1

    def handle_data(self, data):
        for _, chunks in self.open:
            chunks.append(data)


def texts(html: str, cls: str | None = None, id: str | None = None) -> list[str]:
    """The whitespace-normalised text of every element with class ``cls`` (a class token) and/or ``id``."""

    def predicate(tag, attrs):
        if cls is not None and cls not in attrs.get("class", "").split():
            return False
        if id is not None and attrs.get("id") != id:
            return False
        return True

    parser = _Collector(predicate)
    parser.feed(html)
    parser.close()
    return parser.found


def field_error(html: str, field_id: str) -> str:
    """The text of the error rendered beside ``field_id`` (``<p class="field-error" id="<field>-error">``)."""
    found = texts(html, cls="field-error", id=f"{field_id}-error")
    assert found, f"no error beside field {field_id!r}; field errors on the page: {texts(html, cls='field-error')}"
    return found[0]


def alerts(html: str) -> list[str]:
    """The text of every alert (flash messages, the message on link pages, form-level notices)."""
    return texts(html, cls="alert")


def input_values(html: str, name: str) -> list[str]:
    parser = _Collector(lambda tag, attrs: False)
    parser.feed(html)
    parser.close()
    return [i.get("value", "") for i in parser.inputs if i.get("name") == name]


LINK_RE = re.compile(r"http://canal\.test(/\S+)")


def link_path(body_text: str) -> str:
    """The path of the (first) canal.test link in an email body."""
    match = LINK_RE.search(body_text)
    assert match, f"no link in email: {body_text[:500]}"
    return match.group(1)
