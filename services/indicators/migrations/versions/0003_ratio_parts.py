"""observations.numerator, observations.denominator: a ratio_of_sums value's parts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("observations", sa.Column("numerator", sa.Float(), nullable=True))
    op.add_column("observations", sa.Column("denominator", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observations") as batch:
        batch.drop_column("denominator")
        batch.drop_column("numerator")
