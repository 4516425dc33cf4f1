"""submissions awaiting a verdict: the reconciliation's index

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_submissions_status_received_at", "submissions", ["status", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_submissions_status_received_at", table_name="submissions")
