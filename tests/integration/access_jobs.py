"""Access-matrix rows and CSRF cases for the order-taking routes of this area (see test_access_matrix.py).

``rows()`` is called by test_access_matrix.py once everything it defines exists; ``csrf_cases()`` by
test_security.py.
"""

from __future__ import annotations


def rows() -> list:
    return []


def csrf_cases() -> list:
    return []
