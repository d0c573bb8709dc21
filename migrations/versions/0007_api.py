"""api: skus.updated_at, so the goods API's ETag version sees a SKU's price, code or spec change

Revision ID: 0007_api
Revises: 0006_engine
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_api'
down_revision = '0006_engine'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: rows written before this revision have none, and a version ignores NULLs.
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('skus', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
