"""The audit log page, for admins, limited to their subtree.

The log itself (``portal.audit``) sits below org, since every domain, org included, writes to
it; this page uses org's roles and scope like every page, so it lives up here with the other
pages over several domains."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, render_template, request
from flask_babel import format_datetime, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.audit.labels import ACTION_GROUPS, ACTION_LABELS, DETAIL_LABELS, SIGN_INS
from portal.audit.models import AuditEntry
from portal.audit.services import query_entries
from portal.extensions import db, htmx
from portal.kernel.forms import flag
from portal.kernel.money import MoneyError, format_yuan, parse_yuan
from portal.kernel.paging import paginate
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.org.models import OrgNode
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
    action = action if action in ACTION_LABELS else ""
    # Sign-ins and sign-outs are most of the log and rarely what anyone looks for: folded away
    # unless asked for, or unless the action filter names one of them.
    logins = flag(args, "logins") or action in SIGN_INS
    filters = dict(
        action=action,
        exclude=() if logins else SIGN_INS,
        actor=args.get("actor", "").strip()[:64],
        q=args.get("q", "").strip()[:100],
        date_from=_date(args.get("from", "")),
        date_to=_date(args.get("to", "")),
    )
    stmt = query_entries(scope, **filters)
    page = paginate(stmt, args.get("page"), PER_PAGE)
    names = _node_names(scope, page.items)
    ctx = dict(entries=page.items, total=page.total, page=page.page, pages=page.pages,
               filters=filters, labels=ACTION_LABELS, groups=ACTION_GROUPS, logins=logins,
               detail_items=lambda e: detail_items(e, names),
               query={k: v for k, v in args.items() if k != "page" and v})
    if htmx and htmx.target == "audit-rows":
        return render_template("audit/_rows.html", **ctx)
    return render_template("audit/list.html", **ctx)


def _node_names(scope, entries) -> dict[int, str]:
    """Names of the org units saved targets name by id, for the page's entries: one query, and
    none when no entry on the page names any."""
    ids = {i for e in entries for i in ((e.details or {}).get("node_ids") or []) if isinstance(i, int)}
    if not ids:
        return {}
    return dict(db.session.execute(select(OrgNode.id, OrgNode.name).where(OrgNode.id.in_(ids), scope.nodes())).all())


# --------------------------------------------------------------------------- details people read

# Keys whose values are instants (stored as ISO text), money (yuan text, or fen for ``*_fen``),
# rates in basis points, yes/no flags, and codes with labels of their own.
_TIMES = {"scheduled_for", "starts_at", "ends_at", "join_deadline"}
_YUAN = {"price", "list_price", "price_floor", "price_ceiling", "amount", "threshold"}
_BASIS_POINTS = {"commission_rate"}
_FLAGS = {"on_shelf", "archived", "local", "all", "direct_sale", "everything", "active_only"}


def _value_labels() -> dict[str, dict]:
    from portal.campaigns.labels import KIND_LABELS as CAMPAIGN_KINDS
    from portal.campaigns.labels import STORE_STATUS_LABELS
    from portal.decoration.labels import BLOCK_LABELS, CHANGE_LABELS
    from portal.org.forms import KIND_LABELS as NODE_KINDS
    from portal.org.forms import ROLE_LABELS, STATUS_LABELS
    from portal.pushes.labels import KIND_LABELS as PUSH_KINDS

    return {"status": {**STATUS_LABELS, **STORE_STATUS_LABELS}, "role": ROLE_LABELS,
            "kind": {**NODE_KINDS, **PUSH_KINDS, **CAMPAIGN_KINDS}, "block": BLOCK_LABELS,
            "change": CHANGE_LABELS}


def _text(key: str, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool) or (key in _FLAGS and value in ("True", "False")):
        return str(_("Yes") if value in (True, "True") else _("No"))
    if isinstance(value, (list, tuple)):
        return "、".join(_text(key, v) for v in value)
    if key in _TIMES and isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value), "yyyy-MM-dd HH:mm")
        except ValueError:
            return value
    if key.endswith("_fen") and isinstance(value, int):
        return format_yuan(value)
    if key in _YUAN:
        try:
            return format_yuan(parse_yuan(str(value)))
        except MoneyError:
            return str(value)
    if key in _BASIS_POINTS:
        try:
            return format_percent(int(value) / 10000, "#,##0.##%")
        except ValueError:
            return str(value)
    if isinstance(value, int):
        return format_decimal(value, format="#,##0")
    if isinstance(value, str):
        return str(_value_labels().get(key, {}).get(value, value))
    return str(value)


def detail_items(entry: AuditEntry, node_names: dict[int, str] | None = None) -> list[tuple[str, str]]:
    """An entry's details as (label, text) pairs: every key named, every value formatted for the
    reader (local times, ¥ amounts, translated statuses, "old → new" for a change, org units by
    name rather than id)."""
    details = dict(entry.details or {})
    if node_names is not None and isinstance(details.get("node_ids"), list):
        details["node_ids"] = [node_names.get(i, f"#{i}") for i in details["node_ids"]]
    changes = details.get("changes")
    items = changes if isinstance(changes, dict) else details
    out = []
    for key, value in items.items():
        if key in _HIDDEN:
            continue
        label = str(DETAIL_LABELS.get(key, key))
        is_change = isinstance(changes, dict) or (key in _PAIRS and isinstance(value, list) and len(value) == 2)
        if is_change and isinstance(value, list) and len(value) == 2:
            out.append((label, f"{_text(key, value[0])} → {_text(key, value[1])}"))
        elif value is not None and value != "":      # "scheduled for: —" on a push sent at once says nothing
            out.append((label, _text(key, value)))
    return out


_HIDDEN = {"store_ids"}
_PAIRS = {"status", "name"}
