"""Cohort register (person links, history), JSNA cells, reference data for rates.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX events_by_nhs_pseudonym ON events (nhs_pseudonym)
            WHERE nhs_pseudonym IS NOT NULL;
        CREATE INDEX events_by_upn_pseudonym ON events (upn_pseudonym)
            WHERE upn_pseudonym IS NOT NULL;

        CREATE TABLE person_links (
            pseudonym text PRIMARY KEY,
            person_id text NOT NULL
        );
        CREATE INDEX person_links_by_person ON person_links (person_id);

        CREATE TABLE cohort_history (
            person_id  text NOT NULL,
            valid_from date NOT NULL,
            valid_to   date,
            state      jsonb NOT NULL,
            caused_by  text[] NOT NULL,
            PRIMARY KEY (person_id, valid_from)
        );
        CREATE VIEW cohort_register AS
            SELECT person_id, valid_from AS since, state FROM cohort_history
            WHERE valid_to IS NULL;

        CREATE TABLE jsna_cells (
            as_at       date NOT NULL,
            send_status text NOT NULL,
            dimension   text NOT NULL,
            value       text NOT NULL,
            people      bigint NOT NULL,
            PRIMARY KEY (as_at, send_status, dimension, value)
        );

        CREATE TABLE reference_localities (
            lsoa_code text PRIMARY KEY,
            locality  text NOT NULL
        );
        CREATE TABLE reference_population (
            year      integer NOT NULL,
            dimension text NOT NULL,
            value     text NOT NULL,
            people    bigint NOT NULL,
            PRIMARY KEY (year, dimension, value)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE reference_population, reference_localities, jsna_cells;
        DROP VIEW cohort_register;
        DROP TABLE cohort_history, person_links;
        DROP INDEX events_by_upn_pseudonym, events_by_nhs_pseudonym;
        """
    )
