"""inbox_failed: the held events that failed when released, found per store on a partial index

Revision ID: 0025_inbox_failed
Revises: 0024_live_speed
Create Date: 2026-12-07 15:20:00

An applied inbox row keeps data only when it is a held event that its handler rejected once
released (``portal.ingest.services.failed_after_hold``). The store page lists them for admins:
a partial index holds those rows alone (none, usually), so the listing reads no other event of
the store, and the applied events pay nothing for it.
"""
import sqlalchemy as sa
from alembic import op

revision = '0025_inbox_failed'
down_revision = '0024_live_speed'
branch_labels = None
depends_on = None

FAILED = sa.text("status = 'applied' AND data IS NOT NULL")


def upgrade():
    op.create_index('ix_inbox_events_failed', 'inbox_events', ['store_id', 'applied_at'],
                    postgresql_where=FAILED, sqlite_where=FAILED)


def downgrade():
    op.drop_index('ix_inbox_events_failed', table_name='inbox_events')
