"""The ingestion framework's tests register two test event types (tests/ingest/handlers.py)."""
from tests.ingest import handlers  # noqa: F401
