"""Comparators: the figures England, the region and statistical neighbours published for a
KPI, held as reference data rather than constants in the KPI declarations.

Each row names its geography (ONS code, name, kind), KPI, year, value on the KPI's scale,
the publication and its https URL, and the reference load it came with; a load replaces
them wholesale, and `reference_loads` counts them. The API's role reads them: the
scorecard it publishes shows each beside the area's figure for the same year.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE reference_loads ADD COLUMN comparators integer NOT NULL DEFAULT 0;
        CREATE TABLE reference_comparators (
            load_id        bigint NOT NULL REFERENCES reference_loads (load_id),
            geography_code text NOT NULL,
            geography_name text NOT NULL,
            geography_kind text NOT NULL
                CHECK (geography_kind IN ('england', 'region', 'statistical_neighbour')),
            kpi_id         text NOT NULL,
            year           integer NOT NULL,
            period         text NOT NULL CHECK (period IN ('calendar_year', 'as_at_january')),
            value          double precision NOT NULL,
            numerator      integer,
            denominator    integer,
            source         text NOT NULL,
            url            text NOT NULL CHECK (left(url, 8) = 'https://'),
            note           text NOT NULL DEFAULT '',
            PRIMARY KEY (geography_code, kpi_id, year)
        );
        GRANT SELECT ON reference_comparators TO hub_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE reference_comparators;
        ALTER TABLE reference_loads DROP COLUMN comparators;
        """
    )
