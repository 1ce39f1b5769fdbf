"""The span of month ends JSNA cells are kept for, shared by the worker and replay.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE jsna_horizon (
            only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            first_month date NOT NULL,
            last_month  date NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE jsna_horizon;")
