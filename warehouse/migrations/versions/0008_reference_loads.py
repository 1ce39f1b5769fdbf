"""Every load of reference data, recorded: what was loaded, when and by whom.

Reference data (LSOA -> locality, population estimates) changes JSNA cells and KPI
rates, so each load is an input like an event: the worker notices a new load (by its
id) before it applies its next batch, and the audit can say which figures were in
force when.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE reference_loads (
            load_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            loaded_at       timestamptz NOT NULL DEFAULT now(),
            loaded_by       text NOT NULL,
            localities      integer NOT NULL,
            population_rows integer NOT NULL,
            digest          text NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE reference_loads;")
