"""campaigns.discount_bearer: who bears the discount (HQ, the distributor or the store)

Revision ID: 0012_preview
Revises: 0011_media
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_preview'
down_revision = '0011_media'
branch_labels = None
depends_on = None


def upgrade():
    # Campaigns made before this revision were paid for by HQ: the default says so.
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_bearer', sa.String(length=12), server_default='hq', nullable=False))
        batch_op.create_check_constraint(op.f('ck_campaigns_discount_bearer'),
                                         "discount_bearer IN ('hq', 'distributor', 'store')")


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_campaigns_discount_bearer'), type_='check')
        batch_op.drop_column('discount_bearer')
