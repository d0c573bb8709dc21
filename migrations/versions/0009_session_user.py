"""sessions.user_id: the session row names its user, so one statement reads both

Revision ID: 0009_session_user
Revises: 0008_races
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_session_user'
down_revision = '0008_races'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: sessions written before this revision name no user and load it the old way.
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('user_id')
