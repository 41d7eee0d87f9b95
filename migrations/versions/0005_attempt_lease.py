"""submissions.alive_at (an attempt's lease), error_code/error_params (why grading failed, as a code);
worker_heartbeats.healthy/healthy_since/problem (a worker whose sandbox is broken takes no tasks)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('error_code', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('error_params', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('alive_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('worker_heartbeats') as batch:
        batch.add_column(sa.Column('healthy', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column('healthy_since', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('problem', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('worker_heartbeats') as batch:
        batch.drop_column('problem')
        batch.drop_column('healthy_since')
        batch.drop_column('healthy')
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('alive_at')
        batch.drop_column('error_params')
        batch.drop_column('error_code')
