"""media_images: the image space (图片空间), pictures owned by an org node

Revision ID: 0011_media
Revises: 0010_pushes
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_media'
down_revision = '0010_pushes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'media_images',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('path', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('filename', sa.String(length=64), nullable=False),
        sa.Column('thumb', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_media_images_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_images')),
        sa.UniqueConstraint('filename', name=op.f('uq_media_images_filename')),
        sa.UniqueConstraint('thumb', name=op.f('uq_media_images_thumb')),
    )
    op.create_index('ix_media_images_path_id', 'media_images', ['path', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_media_images_path_id', table_name='media_images')
    op.drop_table('media_images')
