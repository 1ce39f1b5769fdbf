"""Event store (append-only, hash-chained), KPI measures, extract manifests, quarantine.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE events (
            sequence            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id            uuid NOT NULL UNIQUE,
            event_type          text NOT NULL,
            schema_version      integer NOT NULL,
            schema_fingerprint  text NOT NULL,
            occurred_at         timestamptz NOT NULL,
            recorded_at         timestamptz NOT NULL,
            source_system       text NOT NULL,
            contract_id         text NOT NULL,
            area_code           text NOT NULL,
            extract_id          uuid,
            nhs_pseudonym       text,
            upn_pseudonym       text,
            payload             jsonb NOT NULL,
            received_at         timestamptz NOT NULL DEFAULT now(),
            previous_hash       text NOT NULL,
            row_hash            text NOT NULL
        );
        CREATE INDEX events_by_type ON events (event_type);
        CREATE INDEX events_by_extract ON events (extract_id);

        CREATE FUNCTION refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the event store is append-only (% refused)', TG_OP;
        END $$;
        CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();

        CREATE TABLE kpi_measures (
            kpi_id      text NOT NULL,
            period      date NOT NULL,
            numerator   bigint NOT NULL DEFAULT 0,
            denominator bigint NOT NULL DEFAULT 0,
            updated_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (kpi_id, period)
        );

        CREATE TABLE extract_manifests (
            extract_id    uuid PRIMARY KEY,
            event_type    text NOT NULL,
            source_system text NOT NULL,
            contract_id   text NOT NULL,
            area_code     text NOT NULL,
            published_at  timestamptz NOT NULL,
            rows_read     integer NOT NULL,
            rows_sent     integer NOT NULL,
            rows_refused  integer NOT NULL,
            received_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE extract_manifest_events (
            extract_id uuid NOT NULL REFERENCES extract_manifests ON DELETE CASCADE,
            event_id   uuid NOT NULL,
            PRIMARY KEY (extract_id, event_id)
        );

        CREATE TABLE quarantined_messages (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            topic       text NOT NULL,
            partition   integer NOT NULL,
            "offset"    bigint NOT NULL,
            reason      text NOT NULL,
            detail      text NOT NULL,
            message     bytea NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (topic, partition, "offset")
        );

        CREATE TABLE worker_heartbeats (
            worker_id      text PRIMARY KEY,
            beat_at        timestamptz NOT NULL,
            events_applied bigint NOT NULL DEFAULT 0
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE worker_heartbeats, quarantined_messages, extract_manifest_events,
            extract_manifests, kpi_measures;
        DROP TRIGGER events_append_only ON events;
        DROP TABLE events;
        DROP FUNCTION refuse_event_change();
        """
    )
