"""Lets mutmut 3.7 map tests to the functions they reach under pytest 9 (`make mutation` only).

mutmut 3.7.0 reads each test's id from `item._nodeid`, a private attribute pytest 9 no
longer sets (it has only the public `nodeid`); this plugin, loaded by `[tool.mutmut]`
`pytest_add_cli_args`, puts the attribute back on every collected test.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item._nodeid = item.nodeid  # type: ignore[attr-defined]
