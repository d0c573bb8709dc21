"""live rooms: the carrying stores by path, so "broadcasts carried by the stores of my subtree" is
one index range (a distributor's or a region's room list)

Revision ID: 0021_live_rooms
Revises: 0020_live
Create Date: 2026-12-03 07:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_live_rooms'
down_revision = '0020_live'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('live_room_stores', schema=None) as batch_op:
        batch_op.create_index('ix_live_room_stores_path', ['path', 'room_id'], unique=False)


def downgrade():
    with op.batch_alter_table('live_room_stores', schema=None) as batch_op:
        batch_op.drop_index('ix_live_room_stores_path')
