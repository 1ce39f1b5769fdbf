"""Quarantined messages remember when they were re-checked and released.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE quarantined_messages
            ADD COLUMN checked_at timestamptz,
            ADD COLUMN released_at timestamptz,
            ADD COLUMN released_event_id uuid;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE quarantined_messages
            DROP COLUMN released_event_id, DROP COLUMN released_at, DROP COLUMN checked_at;
        """
    )
