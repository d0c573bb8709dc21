"""live lottery: the entrants of a drawn lottery, fixed at the draw with their scores

Revision ID: 0022_live_lottery
Revises: 0021_live_rooms
Create Date: 2026-12-03 07:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0022_live_lottery'
down_revision = '0021_live_rooms'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('live_lottery_entrants',
    sa.Column('lottery_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('score', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['lottery_id'], ['live_lotteries.id'], name=op.f('fk_live_lottery_entrants_lottery_id_live_lotteries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_live_lottery_entrants_member_id_members')),
    sa.PrimaryKeyConstraint('lottery_id', 'member_id', name=op.f('pk_live_lottery_entrants'))
    )


def downgrade():
    op.drop_table('live_lottery_entrants')
