"""paginate: db.paginate with the portal's page rules."""
from sqlalchemy import select

from portal.kernel.paging import paginate
from portal.org.models import Store


def _codes(page):
    return [s.code for s in page.items]


def test_pages_count_and_bound(org, db):
    stmt = select(Store).order_by(Store.code)
    first = paginate(stmt, "1", 2)
    assert (first.total, first.pages, first.page, _codes(first)) == (5, 3, 1, ["GD001", "JS001"])
    assert _codes(paginate(stmt, 3, 2)) == ["SO001"]
    # Junk is page 1, never a 404; a page past the end is empty, or the last page when clamped.
    for junk in ("abc", "-3", "0", None, "1e3", "９"):
        assert paginate(stmt, junk, 2).page == 1
    past = paginate(stmt, "9", 2)
    assert (past.page, past.items, past.total, past.pages) == (9, [], 5, 3)
    clamped = paginate(stmt, "9", 2, clamp=True)
    assert (clamped.page, _codes(clamped), clamped.total) == (3, ["SO001"], 5)


def test_rows_keep_every_column_and_empty_is_one_page(org, db):
    rows = paginate(select(Store.code, Store.city).order_by(Store.code), 1, 2, rows=True).items
    assert [tuple(r) for r in rows] == [("GD001", "广州"), ("JS001", "南京")]
    empty = paginate(select(Store).where(Store.code == "nope"), 1, 50, clamp=True)
    assert (empty.items, empty.total, empty.pages, empty.page) == ([], 0, 1, 1)
