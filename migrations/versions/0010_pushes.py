"""pushes.target_count, target_parts and push_reaches: where a push went, as people named it and per place

Revision ID: 0010_pushes
Revises: 0009_session_user
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_pushes'
down_revision = '0009_session_user'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: pushes made before this revision recorded no count; the history shows their total.
    with op.batch_alter_table('pushes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('target_parts', sa.JSON(), nullable=True))
    op.create_table(
        'push_reaches',
        sa.Column('push_id', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=255), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('delivered', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.Integer(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.Column('reverted', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['push_id'], ['pushes.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('push_id', 'path'),
    )
    op.create_index('ix_push_reaches_path', 'push_reaches', ['path', 'push_id'], unique=False)
    # Pushes made before: their reach per place, read off their delivery rows (one statement).
    op.execute(
        "INSERT INTO push_reaches (push_id, path, total, delivered, skipped, failed, reverted) "
        "SELECT d.push_id, s.path, count(*), "
        "sum(CASE WHEN d.outcome IN ('delivered', 'reverted') THEN 1 ELSE 0 END), "
        "sum(CASE WHEN d.outcome = 'skipped' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN d.outcome = 'failed' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN d.outcome = 'reverted' THEN 1 ELSE 0 END) "
        "FROM push_deliveries d JOIN stores s ON s.id = d.store_id GROUP BY d.push_id, s.path")


def downgrade():
    op.drop_index('ix_push_reaches_path', table_name='push_reaches')
    op.drop_table('push_reaches')
    with op.batch_alter_table('pushes', schema=None) as batch_op:
        batch_op.drop_column('target_parts')
        batch_op.drop_column('target_count')
