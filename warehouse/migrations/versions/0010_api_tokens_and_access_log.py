"""API sign-in and its trace: bearer tokens (hashes only), the access log, the API's role.

`api_tokens` keeps a SHA-256 of each token, never the token (decision 0017).
`access_log` is append-only like the event store: its owner's trigger refuses UPDATE,
DELETE and TRUNCATE. `hub_api` is the NOLOGIN group role the API process logs in
through: it may read tokens and the published views, append to and read the access
log, and read only the columns of the event store that receipts and a partner's own
submissions need (never a payload or a pseudonym).

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE api_tokens (
            name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
            role        text NOT NULL CHECK (role IN
                            ('partner', 'commissioner', 'public_health', 'ig_auditor', 'admin')),
            party       text,
            token_hash  text NOT NULL UNIQUE,
            created_at  timestamptz NOT NULL DEFAULT now(),
            expires_at  timestamptz,
            revoked_at  timestamptz,
            CHECK ((role = 'partner') = (party IS NOT NULL))
        );

        CREATE TABLE access_log (
            id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at               timestamptz NOT NULL DEFAULT now(),
            token_name       text NOT NULL,
            role             text NOT NULL,
            party            text,
            method           text NOT NULL,
            route            text NOT NULL,
            parameters       jsonb NOT NULL DEFAULT '{}',
            status           integer NOT NULL,
            rows_returned    integer,
            cells_returned   integer,
            cells_suppressed integer,
            duration_ms      double precision NOT NULL
        );
        CREATE INDEX access_log_by_time ON access_log (at);
        CREATE INDEX access_log_by_token ON access_log (token_name, at);

        CREATE FUNCTION refuse_access_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the access log is append-only (% refused)', TG_OP;
        END $$;
        CREATE TRIGGER access_log_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON access_log
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_access_log_change();

        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hub_api') THEN
                CREATE ROLE hub_api NOLOGIN;
            END IF;
        END $$;
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM hub_api;
        GRANT USAGE ON SCHEMA public TO hub_api;
        GRANT SELECT ON api_tokens TO hub_api;
        GRANT SELECT, INSERT ON access_log TO hub_api;
        GRANT SELECT ON kpi_measures, jsna_cells, reference_population, extract_manifests
            TO hub_api;
        GRANT SELECT (event_id, event_type, source_system, extract_id, occurred_at, received_at)
            ON events TO hub_api;
        GRANT SELECT (id, topic, partition, "offset", reason, detail, received_at, released_at)
            ON quarantined_messages TO hub_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM hub_api;
        REVOKE USAGE ON SCHEMA public FROM hub_api;
        DROP TABLE access_log;
        DROP FUNCTION refuse_access_log_change();
        DROP TABLE api_tokens;
        """
    )
