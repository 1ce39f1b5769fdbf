"""Erasure that keeps the proof: tombstones, deletion records, a chain over content digests.

Retention (and an opt-out removal) must erase an event's payload and pseudonyms while
`verify_chain` still holds over the row. So the chain now links each row's content
digest (`sha256` of its canonical bytes) instead of the bytes themselves: a tombstone
keeps its digest, and the chain through it still verifies (decision 0004). The rows
already stored are re-chained here, after checking they verify under the old rule, so
tampering from before the migration is refused rather than laundered.

The append-only trigger now allows exactly one UPDATE: a live row turned into a
tombstone (payload and pseudonyms NULL, `erased_at` and a recorded `erasure_id` set,
every other column unchanged). DELETE and TRUNCATE stay refused. `deletion_records`
says how many events of which type were erased, under which rule, when, never which;
it is append-only too. A quarantined message mentioning an erased pseudonym loses its
bytes the same way (`message` NULL, `erased_at` set).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import hashlib
from typing import Any

from alembic import op

from schemas.envelope import Event
from warehouse.event_store import canonical_bytes

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
CONTENT = (
    "event_id, event_type, schema_version, schema_fingerprint, occurred_at, recorded_at,"
    " source_system, contract_id, area_code, extract_id, nhs_pseudonym, upn_pseudonym, payload,"
    " record_id"
)


class ChainDoesNotVerify(RuntimeError):
    """The stored chain is already broken: re-chaining it would hide what broke it."""


def _driver_connection() -> Any:
    """The psycopg connection under Alembic's, in the migration's transaction."""
    return op.get_bind().connection.driver_connection


def _rechain(*, to_digests: bool) -> None:
    """Re-hash every row in order, checking each against the rule it was stored under."""
    conn = _driver_connection()
    previous_old = previous_new = GENESIS_HASH
    updates: list[tuple[str | None, str, str, int]] = []
    rows = conn.execute(
        f"SELECT sequence, previous_hash, row_hash, {CONTENT} FROM events ORDER BY sequence"
    ).fetchall()
    for sequence, previous_hash, row_hash, *content in rows:
        body = canonical_bytes(Event(*content))
        digest = hashlib.sha256(body).hexdigest()
        by_bytes = hashlib.sha256(previous_old.encode("ascii") + body).hexdigest()
        by_digest = hashlib.sha256((previous_old + digest).encode("ascii")).hexdigest()
        expected = by_bytes if to_digests else by_digest
        if previous_hash != previous_old or row_hash != expected:
            raise ChainDoesNotVerify(f"the event chain does not verify at sequence {sequence}")
        previous_old = row_hash
        if to_digests:
            current = hashlib.sha256((previous_new + digest).encode("ascii")).hexdigest()
        else:
            current = hashlib.sha256(previous_new.encode("ascii") + body).hexdigest()
        updates.append((digest if to_digests else None, previous_new, current, sequence))
        previous_new = current
    with conn.cursor() as cursor:
        cursor.executemany(
            "UPDATE events SET content_digest = coalesce(%s, content_digest),"
            " previous_hash = %s, row_hash = %s WHERE sequence = %s",
            updates,
        )


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE deletion_records (
            erasure_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            erased_at           timestamptz NOT NULL DEFAULT now(),
            kind                text NOT NULL CHECK (kind IN ('retention', 'opt_out')),
            contract_id         text NOT NULL,
            rule                text NOT NULL,
            events_erased       integer NOT NULL,
            by_event_type       jsonb NOT NULL,
            quarantined_erased  integer NOT NULL
        );
        CREATE FUNCTION refuse_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
        END $$;
        CREATE TRIGGER deletion_records_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON deletion_records
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_record_change();

        DROP TRIGGER events_append_only ON events;
        ALTER TABLE events
            ADD COLUMN content_digest text,
            ADD COLUMN erased_at timestamptz,
            ADD COLUMN erasure_id bigint REFERENCES deletion_records,
            ALTER COLUMN payload DROP NOT NULL;
        """
    )
    _rechain(to_digests=True)
    op.execute(
        """
        ALTER TABLE events
            ALTER COLUMN content_digest SET NOT NULL,
            ADD CONSTRAINT events_erasure_recorded
                CHECK ((erased_at IS NULL) = (erasure_id IS NULL)),
            ADD CONSTRAINT events_live_have_payload
                CHECK (erased_at IS NOT NULL OR payload IS NOT NULL),
            ADD CONSTRAINT events_tombstones_are_empty
                CHECK (erased_at IS NULL
                    OR (payload IS NULL AND nhs_pseudonym IS NULL AND upn_pseudonym IS NULL));
        CREATE INDEX events_by_erasure ON events (erasure_id) WHERE erasure_id IS NOT NULL;

        CREATE FUNCTION guard_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            erasable CONSTANT text[] :=
                ARRAY['payload', 'nhs_pseudonym', 'upn_pseudonym', 'erased_at', 'erasure_id'];
        BEGIN
            IF TG_OP = 'UPDATE'
                AND OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL
                AND NEW.erasure_id IS NOT NULL
                AND EXISTS (SELECT 1 FROM deletion_records d
                            WHERE d.erasure_id = NEW.erasure_id)
                AND NEW.payload IS NULL
                AND NEW.nhs_pseudonym IS NULL AND NEW.upn_pseudonym IS NULL
                AND (to_jsonb(NEW) - erasable) = (to_jsonb(OLD) - erasable)
            THEN
                RETURN NEW;  -- a live row turned into a tombstone: the only change allowed
            END IF;
            RAISE EXCEPTION 'the event store is append-only (% refused)', TG_OP;
        END $$;
        CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION guard_event_change();
        CREATE TRIGGER events_never_truncated BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();

        ALTER TABLE quarantined_messages
            ALTER COLUMN message DROP NOT NULL,
            ADD COLUMN erased_at timestamptz,
            ADD COLUMN event_id uuid;
        """
    )


def downgrade() -> None:
    conn = _driver_connection()
    (erased,) = conn.execute("SELECT count(*) FROM events WHERE erased_at IS NOT NULL").fetchone()
    if erased:
        raise RuntimeError("erased events cannot be re-chained by their bytes: no downgrade")
    op.execute(
        """
        ALTER TABLE quarantined_messages
            DROP COLUMN event_id, DROP COLUMN erased_at;
        DELETE FROM quarantined_messages WHERE message IS NULL;
        ALTER TABLE quarantined_messages ALTER COLUMN message SET NOT NULL;
        DROP TRIGGER events_never_truncated ON events;
        DROP TRIGGER events_append_only ON events;
        DROP FUNCTION guard_event_change();
        """
    )
    _rechain(to_digests=False)
    op.execute(
        """
        DROP INDEX events_by_erasure;
        ALTER TABLE events
            DROP CONSTRAINT events_tombstones_are_empty,
            DROP CONSTRAINT events_live_have_payload,
            DROP CONSTRAINT events_erasure_recorded,
            DROP COLUMN erasure_id, DROP COLUMN erased_at, DROP COLUMN content_digest,
            ALTER COLUMN payload SET NOT NULL;
        CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();
        DROP TABLE deletion_records;
        DROP FUNCTION refuse_record_change();
        """
    )
