"""Readying the API before it answers, and keeping its documents built while it runs.

A fresh API process made its first users wait seconds: templates compiled on first use,
vl-convert's engine started by the first chart (holding the GIL for a second, so every
other request waited too), and the scorecard built by the first request. `hub.api`'s app
(`create_app(..., keep_fresh=True)`) therefore, at start-up and before it serves, builds
the documents the landing pages read (the scorecard and the feeds' dates; the JSNA as at
the latest month end and a year before), compiles every template and starts vl-convert;
then runs a `Refresher` that rebuilds the documents asked for when the warehouse moves
(decision 0025). The documents built here are pinned: kept built however long since
anyone asked. A warehouse that cannot be read at start-up only means a colder first page.
"""

from __future__ import annotations

import datetime as dt
import logging

from warehouse.api.pool import Connection, WarehousePool, borrowed
from warehouse.feeds import latest_events
from warehouse.jsna import jsna_document
from warehouse.publication_cache import PUBLISHED
from warehouse.publication_refresher import Refresher
from warehouse.scorecard import scorecard_document
from warehouse.web import charts
from warehouse.web.jsna_pages import a_year_before, latest_month_end
from warehouse.web.layout import TEMPLATES

log = logging.getLogger("hub.api.warm_up")


def warm_documents(conn: Connection, today: dt.date) -> None:
    """Build and pin the documents the scorecard and the JSNA explorer open on."""
    with PUBLISHED.pinned():
        scorecard_document(conn)
        latest_events(conn)
        month_end = latest_month_end(conn, today)
        jsna_document(conn, month_end)
        jsna_document(conn, a_year_before(month_end))


def warm_up(pool: WarehousePool, today: dt.date) -> None:
    """Everything a first request would otherwise pay for (see the module's docstring)."""
    for name in TEMPLATES.list_templates(extensions=["html"]):
        TEMPLATES.get_template(name)
    charts.warm_up()
    try:
        with borrowed(pool) as conn:
            warm_documents(conn, today)
    except Exception as error:  # the warehouse away: the first requests build them
        log.warning(
            "the published documents could not be built at start-up (%s)", type(error).__name__
        )


def start_refresher(pool: WarehousePool) -> Refresher:
    """The thread that keeps the published documents built (`publication_refresher.py`)."""
    refresher = Refresher(lambda: borrowed(pool))
    refresher.start()
    return refresher
