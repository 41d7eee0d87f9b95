"""submissions.requeue_reason: why a submission last went back to the queue (requeue.regrade, requeue.reaper,
requeue.retry, requeue.recovered; NULL if it never did)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('requeue_reason', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('requeue_reason')
