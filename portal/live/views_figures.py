"""A room's figures and share leaderboard: partials the room page includes (``room`` and ``scope``
in context) and that poll themselves every 3 s while the room is live, so the figures and the
leaderboard move without a reload; the same URLs without htmx give a page of their own; the
export writes the figures, the carrying stores and the leaderboard as CSV or a workbook."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _

from portal.extensions import htmx
from portal.kernel.tabular import XLSX_MIMETYPE, csv_chunks, xlsx_bytes
from portal.live import figures
from portal.live.models import LIVE
from portal.live.services import get_room_or_404
from portal.org import roles
from portal.org.access import current_scope, roles_required

bp = Blueprint("live_figures", __name__)

# The rooms part's room page (linked back to when it is served).
ROOM_ENDPOINT = "live.view_room"


def _by() -> str:
    by = request.args.get("by", figures.VIEWERS)
    return by if by in figures.RANKINGS else figures.VIEWERS


@bp.app_template_global("live_room_figures")
def live_room_figures(room) -> figures.Figures:
    """The data of ``live/_figures.html`` (the room page includes it with ``room``)."""
    return figures.room_figures(current_scope(), room)


@bp.app_template_global("live_leaderboard")
def live_leaderboard(room, by: str = figures.VIEWERS) -> list[figures.Rank]:
    """The data of ``live/_leaderboard.html``."""
    return figures.leaderboard(current_scope(), room, by=by if by in figures.RANKINGS else figures.VIEWERS)


@bp.app_template_global("live_is_polling")
def live_is_polling(room) -> bool:
    """Whether the room's partials poll themselves (the room is live)."""
    return room.status == LIVE


@bp.app_template_global("live_room_url")
def live_room_url(room) -> str | None:
    if ROOM_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(ROOM_ENDPOINT, room_id=room.id)


@bp.route("/live/<int:room_id>/figures")
@roles_required(*roles.ALL)
def show_figures(room_id: int):
    scope = current_scope()
    room = get_room_or_404(scope, room_id)
    if htmx:
        return render_template("live/_figures.html", room=room, scope=scope)
    return render_template("live/figures.html", room=room, scope=scope, by=_by())


@bp.route("/live/<int:room_id>/leaderboard")
@roles_required(*roles.ALL)
def show_leaderboard(room_id: int):
    scope = current_scope()
    room = get_room_or_404(scope, room_id)
    if htmx:
        return render_template("live/_leaderboard.html", room=room, scope=scope, by=_by())
    return render_template("live/figures.html", room=room, scope=scope, by=_by())


@bp.route("/live/<int:room_id>/figures/export")
@roles_required(*roles.ALL)
def export_figures(room_id: int):
    scope = current_scope()
    room = get_room_or_404(scope, room_id)
    kind = request.args.get("format", "csv")
    if kind not in ("csv", "xlsx"):
        abort(404)
    fig = figures.room_figures(scope, room, top=None)
    labels = {"viewers": _("Unique viewers"), "peak_online": _("Peak concurrent viewers"),
              "watch_seconds": _("Total watch time (seconds)"), "average_watch": _("Average watch time (seconds)"),
              "likes": _("Likes"), "comments": _("Comments"), "shares": _("Shares"), "follows": _("New followers"),
              "orders": _("Orders"), "gmv": _("GMV (yuan)"), "buyers": _("Buyers"), "conversion": _("Conversion"),
              "by_viewers": _("By viewers brought"), "by_buyers": _("By buyers brought")}
    metrics, stores, board = figures.export_rows(
        fig, figures.leaderboard(scope, room, by=figures.VIEWERS, limit=200),
        figures.leaderboard(scope, room, by=figures.BUYERS, limit=200), labels)
    store_header = [_("Store code"), _("Store"), _("Viewers"), _("Orders"), _("GMV (yuan)"), _("Buyers")]
    board_header = [_("Ranking"), _("Place"), _("Sharer"), _("Store"), _("Guide"), _("Viewers brought"),
                    _("Buyers brought")]
    name = f"live-{room.id}-figures"
    if kind == "xlsx":
        body = xlsx_bytes([_("Figure"), _("Value")], metrics, title=_("Figures"),
                          more=[(_("Stores"), store_header, stores), (_("Share leaderboard"), board_header, board)])
        return Response(body, mimetype=XLSX_MIMETYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    # One CSV: the figures, then the stores, then the leaderboard, each under its own header.
    rows = [*metrics, (), store_header, *stores, (), board_header, *board]
    return Response("".join(csv_chunks([_("Figure"), _("Value")], rows)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
