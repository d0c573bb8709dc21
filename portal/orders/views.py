"""Orders: the list (search, filters, CSV) and the order page, for every role within its scope.
Owners see their own store's orders (from their phone); staff those of their subtree."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from portal.extensions import htmx
from portal.orders import services
from portal.orders.services import OrderFilter
from portal.org import roles
from portal.org.access import current_scope, roles_required
from portal.web import NavEntry

bp = Blueprint("orders", __name__)
# Its sections of the navigation (assembled by the app factory, see portal.web.NavEntry).
NAV = (NavEntry("orders.list_orders", _l("Orders"), "receipt", roles.ALL, order=65),)

# The member page's endpoint (the members part serves it): orders link there when it exists.
MEMBER_ENDPOINT = "members.view_member"


@bp.context_processor
def _labels():
    return {"order_statuses": services.STATUSES}


@bp.app_template_global("order_status_label")
def order_status_label(status: str) -> str:
    """An order status in words (已支付 / 部分退款 / 已退款), wherever a page lists orders."""
    return services.status_label(status)


@bp.app_template_global("member_url")
def member_url(member_id: int | None) -> str | None:
    """The member page of ``member_id``, or None before the members part serves it."""
    if member_id is None or MEMBER_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(MEMBER_ENDPOINT, member_id=member_id)


@bp.app_template_global("member_orders")
def member_orders(member) -> services.MemberOrders:
    """The data of ``orders/_member_orders.html`` (the member page includes it with ``member``)."""
    return services.member_orders(current_scope(), member.id)


@bp.route("/orders")
@roles_required(*roles.ALL)
def list_orders():
    scope = current_scope()
    flt = OrderFilter.from_args(request.args)
    page = services.list_orders(scope, flt)
    ctx = dict(page=page, flt=flt, query=urlencode(flt.args(page=1)), owner=scope.store_id is not None)
    if htmx and htmx.target == "order-rows":
        return render_template("orders/_order_rows.html", **ctx)
    return render_template("orders/list.html", campaigns=services.campaign_choices(scope), **ctx)


@bp.route("/orders/export.csv")
@roles_required(*roles.ALL)
def export_orders():
    """The list's orders as CSV (its filters apply; at most services.MAX_EXPORT of them). Built
    whole inside the request, as the store export is: a streamed body would read the database
    after the request's session is gone."""
    flt = OrderFilter.from_args(request.args)
    return Response("".join(services.export_rows(current_scope(), flt)), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=orders.csv"})


@bp.route("/orders/<int:order_id>")
@roles_required(*roles.ALL)
def view_order(order_id: int):
    scope = current_scope()
    order = services.get_order_or_404(scope, order_id)
    view = services.order_view(order)
    return render_template("orders/view.html", order=order, view=view, owner=scope.store_id is not None)
