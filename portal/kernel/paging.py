"""Paging: one page of a SELECT, on Flask-SQLAlchemy's ``db.paginate``.

``paginate(stmt, page, per_page)`` counts the matches and loads one page of them, with the
portal's rules on top of Flask-SQLAlchemy's: the page number is read from query-string text by
``parse_page`` (1 .. ``MAX_PAGE``, junk is page 1, never a 404), ``pages`` is at least 1 (an
empty list is one empty page), ``clamp=True`` shows the last page for a page past the end (the
store and goods lists) where the default shows an empty page, and ``rows=True`` keeps whole rows
of a multi-column SELECT where ``db.paginate`` keeps the first column. The page shows ``items``,
``total``, ``page``, ``per_page``, ``pages``; templates page with ``macros/forms.html``'s
``pager``.
"""
from __future__ import annotations

from flask_sqlalchemy.pagination import SelectPagination

from portal.extensions import db
from portal.kernel.ids import parse_page


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill: at least 1."""
    return max(1, -(-total // per_page))


class Page(SelectPagination):
    """``db.paginate``'s page with the portal's rules (see the module); build it with ``paginate``."""

    def __init__(self, select, *, page: int, per_page: int, clamp: bool = False, rows: bool = False,
                 load=None):
        self._clamp, self._rows, self._load, self._counted = clamp, rows, load, None
        super().__init__(select=select, session=db.session(), page=page, per_page=per_page, max_per_page=None,
                         error_out=False, count=not clamp)
        if clamp:
            self.total = self._counted

    def _query_items(self) -> list:
        if self._clamp:           # count first, to know where the end is
            self._counted = self._query_count()
            self.page = min(self.page, page_count(self._counted, self.per_page))
        select = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        if self._load is not None:
            return list(self._load(select))
        if not self._rows:
            return super()._query_items()
        return list(self._query_args["session"].execute(select).all())

    @property
    def pages(self) -> int:
        return page_count(self.total or 0, self.per_page)


def paginate(stmt, page, per_page: int, *, clamp: bool = False, rows: bool = False, load=None) -> Page:
    """One page of ``stmt``; ``page`` is a number or the query string's text for it.

    ``load``, when given, is called with the page's SELECT (``stmt`` limited to the page) and
    returns the items: a list can then read its rows *around* the page's ids in one statement
    instead of loading the ids and then their rows."""
    return Page(stmt, page=parse_page(page), per_page=per_page, clamp=clamp, rows=rows, load=load)
