"""The IG report's reach for the API's role, and a record of each hash-chain verification.

`GET /audit/report` counts events by contract and whether they were erased or are still
in effect (the supersessions' event ids and sequences), and reads the deletion records
(counts by kind and event type, never which events): `hub_api` may read those columns.
Verifying the chain needs every row's content, which the API's role must never read, so
`hub audit verify` records each run in `chain_verifications` (append-only, like the
deletion records) and `GET /audit/chain` reads the latest.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE chain_verifications (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            verified_at     timestamptz NOT NULL DEFAULT now(),
            rows_verified   bigint NOT NULL,
            tombstones      bigint NOT NULL,
            last_sequence   bigint NOT NULL,
            broken_at       bigint,
            break_kind      text CHECK (break_kind IN
                                ('link_broken', 'content_changed', 'hash_changed',
                                 'erasure_unrecorded')),
            CHECK ((broken_at IS NULL) = (break_kind IS NULL))
        );
        CREATE TRIGGER chain_verifications_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON chain_verifications
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_record_change();

        GRANT SELECT (contract_id, erased_at) ON events TO hub_api;
        GRANT SELECT (event_id, sequence) ON event_supersessions TO hub_api;
        GRANT SELECT ON deletion_records, chain_verifications TO hub_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        REVOKE SELECT ON deletion_records FROM hub_api;
        REVOKE SELECT (event_id, sequence) ON event_supersessions FROM hub_api;
        REVOKE SELECT (contract_id, erased_at) ON events FROM hub_api;
        DROP TABLE chain_verifications;
        """
    )
