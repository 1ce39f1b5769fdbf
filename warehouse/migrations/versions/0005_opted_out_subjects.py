"""Subjects under the national data opt-out, by pseudonym.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE opted_out_subjects (
            pseudonym   text PRIMARY KEY,
            recorded_at timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE opted_out_subjects;")
