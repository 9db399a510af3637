"""Pagination: the page numbers a pager shows (marketplace.main.templating.Page.window)."""

from __future__ import annotations

import pytest

from marketplace.main.templating import Page


def _naive_window(page: Page, size: int) -> list[int | None]:
    """Every page number, keeping the first, the last and ``size`` either side of the current one."""
    shown: list[int | None] = []
    for number in range(1, page.pages + 1):
        if number in (1, page.pages) or abs(number - page.page) <= size:
            shown.append(number)
        elif shown and shown[-1] is not None:
            shown.append(None)
    return shown


@pytest.mark.parametrize(("total", "page", "expected"), [
    (0, 1, [1]),
    (60, 2, [1, 2, 3]),
    (200, 1, [1, 2, 3, None, 10]),
    (200, 6, [1, None, 4, 5, 6, 7, 8, None, 10]),
    (10_000, 250, [1, None, 248, 249, 250, 251, 252, None, 500]),
])
def test_the_window_keeps_the_ends_and_the_neighbours(total, page, expected):
    assert Page([], page, 20, total).window() == expected


def test_the_window_is_the_same_as_walking_every_page():
    for total in range(0, 400, 7):
        for per_page in (1, 3, 20):
            for number in range(1, Page([], 1, per_page, total).pages + 3):
                page = Page([], number, per_page, total)
                for size in (0, 1, 2, 3):
                    assert page.window(size) == _naive_window(page, size)
