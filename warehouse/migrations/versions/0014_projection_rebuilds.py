"""A row for each rebuild of the projections, so a published document cached before it is
not served after it.

Published documents are cached until the warehouse's version moves (the highest event
sequence, the latest reference load). A rebuild that moves neither (`hub replay --apply`
after a changed definition, an erasure by retention or opt-out followed by its rebuild)
used to be seen only when a cached entry aged out; now each rebuild appends a row here,
and its id is part of the version. The API's role may read the id, nothing else.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projection_rebuilds (
            rebuild_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            rebuilt_at  timestamptz NOT NULL DEFAULT now()
        );
        GRANT SELECT (rebuild_id) ON projection_rebuilds TO hub_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        REVOKE SELECT (rebuild_id) ON projection_rebuilds FROM hub_api;
        DROP TABLE projection_rebuilds;
        """
    )
