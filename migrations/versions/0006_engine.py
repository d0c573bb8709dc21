"""push engine: heartbeat and runner, cancelled state, rollback who/when, errors as message keys

Revision ID: 0006_engine
Revises: 0005_prices
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_engine'
down_revision = '0005_prices'
branch_labels = None
depends_on = None

CANCELLED_PREFIXES = ("Cancelled by ", "已由")


def upgrade():
    with op.batch_alter_table('pushes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_params', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('runner', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rollback_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rollback_by_name', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('rollback_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rolled_back_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_pushes_rollback_by_id_users'), 'users', ['rollback_by_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('push_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_params', sa.JSON(), nullable=True))

    # Errors written as text before keys existed: a cancel becomes the cancelled state with its
    # key; any other error is kept as the parameter of "the push stopped on an error".
    pushes = sa.table('pushes', sa.column('id', sa.Integer), sa.column('state', sa.String),
                      sa.column('error', sa.Text), sa.column('error_params', sa.JSON))
    bind = op.get_bind()
    for push_id, state, error in bind.execute(sa.select(pushes.c.id, pushes.c.state, pushes.c.error)
                                              .where(pushes.c.error != '')).all():
        prefix = next((p for p in CANCELLED_PREFIXES if error.startswith(p)), None)
        if state == 'failed' and prefix:
            name = error[len(prefix):].removesuffix('取消')
            values = dict(state='cancelled', error='push.cancelled', error_params={'name': name})
        else:
            values = dict(error='push.stopped', error_params={'error': error})
        bind.execute(pushes.update().where(pushes.c.id == push_id).values(**values))


def downgrade():
    op.execute("UPDATE pushes SET state = 'failed' WHERE state = 'cancelled'")
    with op.batch_alter_table('push_deliveries', schema=None) as batch_op:
        batch_op.drop_column('error_params')
    with op.batch_alter_table('pushes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pushes_rollback_by_id_users'), type_='foreignkey')
        batch_op.drop_column('rolled_back_at')
        batch_op.drop_column('rollback_requested_at')
        batch_op.drop_column('rollback_by_name')
        batch_op.drop_column('rollback_by_id')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('runner')
        batch_op.drop_column('error_params')
