"""The audit log page, for admins, limited to their subtree.

The log itself (``portal.audit``) sits below org, since every domain, org included, writes to
it; this page uses org's roles and scope like every page, so it lives up here with the other
pages over several domains."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from portal.audit.labels import ACTION_LABELS
from portal.audit.services import query_entries
from portal.extensions import htmx
from portal.kernel.paging import paginate
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.web import NavEntry

bp = Blueprint("audit", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (
    NavEntry("audit.list_entries", _l("Audit log"), "history", roles.ADMINS, order=140),
)
PER_PAGE = 50


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/audit")
@roles_required(*roles.ADMINS)
def list_entries():
    scope = current_scope()
    args = request.args
    action = args.get("action", "")
    filters = dict(
        action=action if action in ACTION_LABELS else "",
        actor=args.get("actor", "").strip()[:64],
        q=args.get("q", "").strip()[:100],
        date_from=_date(args.get("from", "")),
        date_to=_date(args.get("to", "")),
    )
    stmt = query_entries(scope, **filters)
    page = paginate(stmt, args.get("page"), PER_PAGE)
    ctx = dict(entries=page.items, total=page.total, page=page.page, pages=page.pages,
               filters=filters, labels=ACTION_LABELS,
               query={k: v for k, v in args.items() if k != "page" and v})
    if htmx and htmx.target == "audit-rows":
        return render_template("audit/_rows.html", **ctx)
    return render_template("audit/list.html", **ctx)
