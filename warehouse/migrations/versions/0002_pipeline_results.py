"""Pipeline runs with their reconciliation and data-quality results.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE pipeline_runs (
            run_id              uuid PRIMARY KEY,
            flow                text NOT NULL,
            orchestrator_run_id text,
            started_at          timestamptz NOT NULL,
            finished_at         timestamptz NOT NULL,
            passed              boolean NOT NULL
        );
        CREATE INDEX pipeline_runs_latest ON pipeline_runs (flow, finished_at DESC);

        CREATE TABLE reconciliation_results (
            run_id     uuid NOT NULL REFERENCES pipeline_runs ON DELETE CASCADE,
            check_name text NOT NULL,
            subject    text NOT NULL,
            expected   bigint NOT NULL,
            actual     bigint NOT NULL,
            passed     boolean NOT NULL,
            detail     text NOT NULL,
            PRIMARY KEY (run_id, check_name, subject)
        );

        CREATE TABLE data_quality_results (
            run_id           uuid NOT NULL REFERENCES pipeline_runs ON DELETE CASCADE,
            suite            text NOT NULL,
            expectation      text NOT NULL,
            column_names     text NOT NULL,
            element_count    bigint NOT NULL,
            unexpected_count bigint NOT NULL,
            passed           boolean NOT NULL,
            PRIMARY KEY (run_id, suite, expectation, column_names)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE data_quality_results, reconciliation_results, pipeline_runs;")
