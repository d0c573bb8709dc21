"""races: templates carry a revision, bumped by every write, so a stale editor's save is refused

Revision ID: 0008_races
Revises: 0007_api
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_races'
down_revision = '0007_api'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.drop_column('revision')
