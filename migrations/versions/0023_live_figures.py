"""live_figures: live_rooms.viewers (unique viewers) and live_rooms.entered_sum (the present
viewers' entry times summed, epoch seconds), kept by the counters' aggregator so a room's figures
never scan its viewers

Revision ID: 0023_live_figures
Revises: 0022_live_lottery
Create Date: 2026-12-03 07:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0023_live_figures'
down_revision = '0022_live_lottery'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (SQLite too): live_rooms is never rebuilt, so no cascade touches its children.
    op.add_column('live_rooms', sa.Column('viewers', sa.BigInteger(), nullable=False, server_default='0'))
    op.add_column('live_rooms', sa.Column('entered_sum', sa.BigInteger(), nullable=False, server_default='0'))
    op.execute("UPDATE live_rooms SET viewers = (SELECT count(*) FROM live_viewers v WHERE v.room_id = live_rooms.id)")


def downgrade():
    with op.batch_alter_table('live_rooms') as batch:
        batch.drop_column('entered_sum')
        batch.drop_column('viewers')
