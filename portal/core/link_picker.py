"""The link picker: the body of the modal that fills a block's link field (static/js/pickers.js)
with a mini-program page, a product, a category or a campaign. It reads goods and campaigns,
so it lives here, above both; the paths are decoration's (``portal.decoration.links``).

Searches run in the database and show one page: fast with 2,000 goods and thousands of campaigns."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from portal.campaigns import services as campaign_services
from portal.campaigns.labels import KIND_LABELS
from portal.campaigns.models import PUBLISHED, Campaign
from portal.decoration import links
from portal.extensions import db
from portal.goods import services as goods_services
from portal.goods.services import ProductFilter
from portal.kernel.ids import parse_page
from portal.org import roles
from portal.org.access import current_scope, roles_required

bp = Blueprint("links", __name__)
TABS = ("pages", "goods", "categories", "campaigns")
PER_PAGE = 12


@bp.route("/links/picker")
@roles_required(*roles.ADMINS, roles.STORE_OWNER)
def picker():
    scope = current_scope()
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "pages"
    q = request.args.get("q", "").strip()[:100]
    page_no = parse_page(request.args.get("page"))
    items, page = [], None
    if tab == "pages":
        items = [(str(label), path) for path, label in links.PAGES
                 if not q or q.lower() in str(label).lower() or q in path]
    elif tab == "goods":
        page = goods_services.list_products(scope, ProductFilter(q=q, page=page_no), per_page=PER_PAGE)
        items = [(f"{p.name}", links.product_path(p.code), p.code) for p in page.items]
    elif tab == "categories":
        items = [(c, links.category_path(c)) for c in goods_services.categories(scope) if not q or q in c][:50]
    else:
        if scope.store_id is not None:
            found = [c for c in campaign_services.running_in_store(scope.store_id) if not q or q in c.name]
        else:
            found = db.session.scalars(
                campaign_services.scoped_campaigns(scope, q=q).with_only_columns(Campaign)
                .where(Campaign.status == PUBLISHED).limit(PER_PAGE)).all()
        items = [(c.name, links.campaign_path(c.id), str(KIND_LABELS.get(c.kind, c.kind))) for c in found]
    template = "core/_link_rows.html" if request.headers.get("HX-Target") == "link-rows" else "core/_link_picker.html"
    return render_template(template, tab=tab, q=q, items=items, page=page, tabs=TABS)

