"""orders: a coupon claim remembers its redemption (when, and the order), orders are listed by time and found by number

Revision ID: 0015_orders
Revises: 0014_members_orders
Create Date: 2026-12-02 19:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_orders'
down_revision = '0014_members_orders'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('coupon_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redeemed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('order_id', BIG, nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_coupon_claims_order_id_orders'), 'orders', ['order_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_coupon_claims_order', ['order_id'], unique=False)
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_paid', ['paid_at'], unique=False)
        batch_op.create_index('ix_orders_number', ['number'], unique=False)


def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_number')
        batch_op.drop_index('ix_orders_paid')
    with op.batch_alter_table('coupon_claims', schema=None) as batch_op:
        batch_op.drop_index('ix_coupon_claims_order')
        batch_op.drop_constraint(batch_op.f('fk_coupon_claims_order_id_orders'), type_='foreignkey')
        batch_op.drop_column('order_id')
        batch_op.drop_column('redeemed_at')
