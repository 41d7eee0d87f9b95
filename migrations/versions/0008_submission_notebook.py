"""submissions.notebook: an uploaded Jupyter notebook as stored (the worker runs it; `source` holds its code cells
as a script); submissions.stdout_cells: where each cell's output starts in stdout_excerpt (NULL for a script)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('notebook', sa.Text(), nullable=True))
        batch.add_column(sa.Column('stdout_cells', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('stdout_cells')
        batch.drop_column('notebook')
