"""Every foreign key to members.id is in portal/members/refs.py (merges move what it lists)."""
from portal.extensions import db as _db
from portal.members import refs


def _member_fks() -> set[tuple[str, str]]:
    return {(table.name, fk.parent.name) for table in _db.metadata.tables.values()
            for fk in table.foreign_keys if fk.column.table.name == "members" and fk.column.name == "id"}


def test_every_column_referencing_members_is_in_the_registry(app):
    registered = {(r.table, r.column) for r in refs.MEMBER_REFS}
    missing = _member_fks() - registered
    assert not missing, f"columns pointing at members.id that a merge does not know about: {missing}"
    assert registered <= _member_fks(), "the registry names a column that does not reference members.id"
    assert all(r.policy in (refs.MOVES, refs.STAYS) and r.why for r in refs.MEMBER_REFS)
