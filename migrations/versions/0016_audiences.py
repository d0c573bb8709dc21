"""audiences: member tags, groups (fixed lists and saved filters), the member list's search indexes

Revision ID: 0016_audiences
Revises: 0015_orders
Create Date: 2026-12-02 19:00:00

The nickname search is a ``LIKE '%…%'`` from three characters on: on PostgreSQL a pg_trgm GIN
index answers it (the extension is created here); one or two characters (which make no trigram)
search the start of the nickname, through a ``varchar_pattern_ops`` B-tree. On SQLite plain
indexes stand in. The last four digits of the phone
are ``members.phone_tail``, a column the database computes from ``phone_masked`` (stored on
PostgreSQL, virtual on SQLite) and indexes, so no writer has to keep it in step.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016_audiences'
down_revision = '0015_orders'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('member_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_member_tags_name'))
    )
    op.create_table('member_tag_links',
    sa.Column('member_id', BigId, nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_tag_links_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['member_tags.id'], name=op.f('fk_member_tag_links_tag_id_member_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'tag_id', name=op.f('pk_member_tag_links'))
    )
    op.create_index('ix_member_tag_links_tag', 'member_tag_links', ['tag_id', 'member_id'], unique=False)
    op.create_table('member_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('path', sa.String(length=255), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('fixed', 'filter')", name=op.f('ck_member_groups_kind')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_member_groups_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_groups'))
    )
    op.create_index(op.f('ix_member_groups_path'), 'member_groups', ['path'], unique=False)
    op.create_table('member_group_members',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', BigId, nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['member_groups.id'], name=op.f('fk_member_group_members_group_id_member_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_group_members_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'member_id', name=op.f('pk_member_group_members'))
    )
    op.create_index('ix_member_group_members_member', 'member_group_members', ['member_id'], unique=False)

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_tail', sa.String(length=4),
                                      sa.Computed('substr(phone_masked, length(phone_masked) - 3)'), nullable=True))
    op.create_index('ix_members_phone_tail', 'members', ['phone_tail'], unique=False)
    op.create_index('ix_members_tier', 'members', ['tier_id'], unique=False)
    op.create_index('ix_members_nickname_prefix', 'members', ['nickname'], unique=False,
                    postgresql_ops={'nickname': 'varchar_pattern_ops'})
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index('ix_members_nickname', 'members', ['nickname'], unique=False, postgresql_using='gin',
                        postgresql_ops={'nickname': 'gin_trgm_ops'})
    else:
        op.create_index('ix_members_nickname', 'members', ['nickname'], unique=False)


def downgrade():
    op.drop_index('ix_members_phone_tail', table_name='members')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('phone_tail')
    op.drop_index('ix_members_nickname', table_name='members')
    op.drop_index('ix_members_nickname_prefix', table_name='members')
    op.drop_index('ix_members_tier', table_name='members')
    op.drop_index('ix_member_group_members_member', table_name='member_group_members')
    op.drop_table('member_group_members')
    op.drop_index(op.f('ix_member_groups_path'), table_name='member_groups')
    op.drop_table('member_groups')
    op.drop_index('ix_member_tag_links_tag', table_name='member_tag_links')
    op.drop_table('member_tag_links')
    op.drop_table('member_tags')
    # pg_trgm stays: other schemas of the database may use it.
