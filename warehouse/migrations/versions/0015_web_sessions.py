"""Sessions of the dashboard: a browser signed in with a token holds a session cookie.

The cookie holds a random session id; the table keeps only its SHA-256, the token it
was opened with (by name: revoking the token ends its sessions), the CSRF token its
forms must carry, and when it was opened, expires and ended (sign-out). The API's role
also reads the pipelines' results, for the dashboard's data-quality page.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE web_sessions (
            session_hash text PRIMARY KEY,
            token_name   text NOT NULL REFERENCES api_tokens (name),
            csrf_token   text NOT NULL,
            opened_at    timestamptz NOT NULL DEFAULT now(),
            expires_at   timestamptz NOT NULL,
            ended_at     timestamptz
        );
        GRANT SELECT, INSERT ON web_sessions TO hub_api;
        GRANT UPDATE (ended_at) ON web_sessions TO hub_api;
        -- the data-quality page: each reconcile run's checks and expectations (counts only)
        GRANT SELECT ON pipeline_runs, reconciliation_results, data_quality_results
            TO hub_api;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        REVOKE SELECT ON pipeline_runs, reconciliation_results, data_quality_results
            FROM hub_api;
        DROP TABLE web_sessions;
        """
    )
