"""The API's role may read what a JSNA cross-tab is counted from, and nothing more.

`GET /jsna/crosstab` and the JSNA downloads by two breakdowns count the register's states
at a month end (`warehouse/crosstab.py`): `hub_api` may read `cohort_history`'s validity
dates and states, never whose they are or which events made them (`person_id`,
`caused_by`), and the LSOA-to-locality reference. Every published document is kept until
the warehouse changes (`warehouse/publication_cache.py`), which the API reads as the
event store's highest sequence number and the latest reference load's id: those two
columns too. No event payload, pseudonym or person id comes within reach.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        GRANT SELECT (valid_from, valid_to, state) ON cohort_history TO hub_api;
        GRANT SELECT ON reference_localities TO hub_api;
        GRANT SELECT (sequence) ON events TO hub_api;
        GRANT SELECT (load_id) ON reference_loads TO hub_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        REVOKE SELECT (load_id) ON reference_loads FROM hub_api;
        REVOKE SELECT (sequence) ON events FROM hub_api;
        REVOKE SELECT ON reference_localities FROM hub_api;
        REVOKE SELECT (valid_from, valid_to, state) ON cohort_history FROM hub_api;
        """
    )
