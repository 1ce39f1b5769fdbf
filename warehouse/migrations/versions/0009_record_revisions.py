"""Record revisions: which record each event revises, and every supersession, kept.

A partner correcting a record sends it again with changed fields: a new event (its id
hashes the content) carrying the record's id. The event store keeps every revision;
`event_supersessions` records when each one stopped being the newest and which
revision took its place, so the views (and IG) can read what was in effect at any
point of the store. It is append-only like the events it indexes: a supersession is a
fact derived from the events, never edited.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE events ADD COLUMN record_id uuid;
        CREATE INDEX events_by_record ON events ((coalesce(record_id, event_id)));

        CREATE TABLE event_supersessions (
            event_id      uuid PRIMARY KEY REFERENCES events (event_id),
            record_key    uuid NOT NULL,
            superseded_by uuid NOT NULL REFERENCES events (event_id),
            sequence      bigint NOT NULL,
            recorded_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX event_supersessions_by_record ON event_supersessions (record_key);
        CREATE TRIGGER event_supersessions_append_only
            BEFORE UPDATE OR DELETE OR TRUNCATE ON event_supersessions
            FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE event_supersessions;
        DROP INDEX events_by_record;
        ALTER TABLE events DROP COLUMN record_id;
        """
    )
