"""JSNA cells kept as changes: +n on the month end a count rises, -n when it falls.

A person's state that holds for years then writes a handful of rows, not one per
month end, so the worker and replay do work per change of state rather than per
month. `jsna_cells` becomes a view that adds the changes up to each month end of
the horizon, so every reader sees the same rows as before.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CELLS_VIEW = """
    CREATE VIEW jsna_cells AS
    WITH month_ends AS (
        SELECT (month + interval '1 month' - interval '1 day')::date AS as_at
        FROM jsna_horizon h,
             generate_series(h.first_month, h.last_month, interval '1 month') AS month
    )
    SELECT m.as_at, c.send_status, c.dimension, c.value, sum(c.change)::bigint AS people
    FROM month_ends m
    JOIN jsna_cell_changes c ON c.as_at <= m.as_at
    GROUP BY m.as_at, c.send_status, c.dimension, c.value
    HAVING sum(c.change) <> 0;
"""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE jsna_cell_changes (
            as_at       date NOT NULL,
            send_status text NOT NULL,
            dimension   text NOT NULL,
            value       text NOT NULL,
            change      bigint NOT NULL,
            PRIMARY KEY (as_at, send_status, dimension, value)
        );

        -- the cells were computed for a horizon; fix it from them if none is recorded yet
        INSERT INTO jsna_horizon (first_month, last_month)
        SELECT date_trunc('month', min(as_at))::date, date_trunc('month', max(as_at))::date
        FROM jsna_cells HAVING count(*) > 0
        ON CONFLICT DO NOTHING;

        INSERT INTO jsna_cell_changes (as_at, send_status, dimension, value, change)
        SELECT as_at, send_status, dimension, value, sum(change)
        FROM (
            SELECT as_at, send_status, dimension, value, people AS change FROM jsna_cells
            UNION ALL
            SELECT (date_trunc('month', as_at) + interval '2 month' - interval '1 day')::date,
                   send_status, dimension, value, -people
            FROM jsna_cells
            WHERE (date_trunc('month', as_at) + interval '1 month')::date
                  <= (SELECT last_month FROM jsna_horizon)
        ) moves
        GROUP BY as_at, send_status, dimension, value
        HAVING sum(change) <> 0;

        DROP TABLE jsna_cells;
        """
    )
    op.execute(CELLS_VIEW)


def downgrade() -> None:
    op.execute(
        """
        CREATE TABLE jsna_cells_kept AS SELECT * FROM jsna_cells;
        DROP VIEW jsna_cells;
        DROP TABLE jsna_cell_changes;
        ALTER TABLE jsna_cells_kept RENAME TO jsna_cells;
        ALTER TABLE jsna_cells ALTER COLUMN people SET NOT NULL;
        ALTER TABLE jsna_cells ADD PRIMARY KEY (as_at, send_status, dimension, value);
        """
    )
