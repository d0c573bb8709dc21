"""rfm: members' F and M values and segment start, recompute runs, monthly segment snapshots and moves

Revision ID: 0017_rfm
Revises: 0016_audiences
Create Date: 2026-12-02 18:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0017_rfm'
down_revision = '0016_audiences'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('rfm_orders', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('rfm_net_fen', BigId, nullable=True))
        batch.add_column(sa.Column('segment_since', sa.DateTime(timezone=True), nullable=True))
    op.create_table('rfm_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('members', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=255), nullable=False),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_rfm_runs_state')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_rfm_runs_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rfm_runs'))
    )
    op.create_index('ix_rfm_runs_state', 'rfm_runs', ['state'], unique=False)
    op.create_table('segment_months',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', name=op.f('pk_segment_months'))
    )
    op.create_table('member_segment_months',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('member_id', BigId, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('segment', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('month', 'member_id', name=op.f('pk_member_segment_months'))
    )
    op.create_table('segment_moves',
    sa.Column('id', BigId, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('from_segment', sa.String(length=20), nullable=False),
    sa.Column('to_segment', sa.String(length=20), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_segment_moves_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment_moves'))
    )
    op.create_index('ix_segment_moves_month_store', 'segment_moves', ['month', 'store_id'], unique=False)


def downgrade():
    op.drop_index('ix_segment_moves_month_store', table_name='segment_moves')
    op.drop_table('segment_moves')
    op.drop_table('member_segment_months')
    op.drop_table('segment_months')
    op.drop_index('ix_rfm_runs_state', table_name='rfm_runs')
    op.drop_table('rfm_runs')
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+ has it): a batch "move and copy" of members
    # would fail on SQLite, which cannot copy into its generated column phone_tail (0016).
    for column in ('segment_since', 'rfm_net_fen', 'rfm_orders'):
        op.drop_column('members', column)
