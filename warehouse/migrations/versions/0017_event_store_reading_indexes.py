"""Faster reads for the dashboard and the IG report: two indexes on the event store, and
the JSNA cells of every month end as running totals.

The scorecard speaks as at the latest event's day (`max(occurred_at)`), which without an
index scans every event (about 50 ms at the real area's scale, on each build of the
scorecard); the IG page and report count a contract's events received in a month or a
year (`contract_id`, `received_at`), which scanned the store too. Both indexes cover
tombstones as well: an erased row keeps its dates and contract.

`jsna_cells_by_month` holds the same rows as `jsna_cells`, computed another way for
reading many month ends at once. The older view joins every month end of the horizon to
every change up to it and adds them up (months x changes: about 120 ms for ten years at
the real area's scale), which is quick for one month end, where the date is pushed into
it, and slow for all of them, as the scorecard's month tables read them. Here each
cell's running total is taken once per change (a window), and each total is spread over
the month ends it holds for, up to the next change: work in proportion to the rows
returned (about 25 ms). Equal row for row (tests/component/test_jsna_cells_by_month.py).
The API's role reads it as it reads `jsna_cells`.

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX events_by_occurred_at ON events (occurred_at);
        CREATE INDEX events_by_contract_received ON events (contract_id, received_at);

        CREATE VIEW jsna_cells_by_month AS
        WITH running AS (
            SELECT as_at, send_status, dimension, value,
                   sum(change) OVER cell AS people,
                   lead(as_at) OVER cell AS until
            FROM jsna_cell_changes
            WINDOW cell AS (PARTITION BY send_status, dimension, value ORDER BY as_at)
        ), spans AS (
            SELECT (month + interval '1 month' - interval '1 day')::date AS as_at,
                   r.send_status, r.dimension, r.value, r.people, r.until
            FROM running r, jsna_horizon h,
                 generate_series(
                     greatest(date_trunc('month', r.as_at), h.first_month),
                     least(date_trunc('month', coalesce(r.until, h.last_month)), h.last_month),
                     interval '1 month'
                 ) AS month
            WHERE r.people <> 0
        )
        SELECT as_at, send_status, dimension, value, people::bigint AS people
        FROM spans
        WHERE until IS NULL OR as_at < until;
        GRANT SELECT ON jsna_cells_by_month TO hub_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP VIEW jsna_cells_by_month;
        DROP INDEX events_by_contract_received;
        DROP INDEX events_by_occurred_at;
        """
    )
