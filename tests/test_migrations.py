"""The schema is made by Alembic alone: the migrations must match the models exactly."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_migrations_match_models(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_no_create_all_outside_tests():
    import pathlib

    for path in (pathlib.Path(__file__).parent.parent / "portal").rglob("*.py"):
        assert "create_all(" not in path.read_text(), path
