"""live_speed: the inbox's held index partial and its purge index a BRIN; live_viewers fillfactor 70

Revision ID: 0024_live_speed
Revises: 0023_live_figures
Create Date: 2026-12-03 14:10:00

Every accepted event is an ``inbox_events`` row, so every index of that table is paid on every
event. ``ix_inbox_events_waiting`` serves only the held events (a handful): it becomes partial
(``WHERE status = 'held'``) and costs the applied ones nothing. ``ix_inbox_events_received``
serves the purge's time range over rows that arrive in time order: on PostgreSQL a BRIN index (a
summary per range of pages) instead of a B-tree entry per row.

A live room's viewer row is written again on each leave and by each flush of comments and
shares, none of which touches an indexed column: with room left in each page (fillfactor 70)
PostgreSQL updates it in place (HOT) instead of adding an entry to each of its four indexes.
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_live_speed'
down_revision = '0023_live_figures'
branch_labels = None
depends_on = None

HELD = sa.text("status = 'held'")


def upgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    op.drop_index('ix_inbox_events_waiting', table_name='inbox_events')
    op.create_index('ix_inbox_events_waiting', 'inbox_events', ['store_id', 'waiting_for'],
                    postgresql_where=HELD, sqlite_where=HELD)
    if pg:
        op.drop_index('ix_inbox_events_received', table_name='inbox_events')
        op.create_index('ix_inbox_events_received', 'inbox_events', ['received_at'], postgresql_using='brin')
        op.execute('ALTER TABLE live_viewers SET (fillfactor = 70)')


def downgrade():
    pg = op.get_bind().dialect.name == 'postgresql'
    if pg:
        op.execute('ALTER TABLE live_viewers RESET (fillfactor)')
        op.drop_index('ix_inbox_events_received', table_name='inbox_events')
        op.create_index('ix_inbox_events_received', 'inbox_events', ['received_at'])
    op.drop_index('ix_inbox_events_waiting', table_name='inbox_events')
    op.create_index('ix_inbox_events_waiting', 'inbox_events', ['store_id', 'waiting_for'])
