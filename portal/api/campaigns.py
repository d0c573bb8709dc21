"""``GET /api/v1/stores/<code>/campaigns`` (what the store runs now) and
``POST /api/v1/stores/<code>/coupons/<campaign_id>/claim`` (a coupon for a member)."""
from __future__ import annotations

import marshmallow as ma

from portal.api.auth import current_store
from portal.api.conditional import conditional
from portal.api.errors import ApiError
from portal.api.schemas import ETAG_HEADER
from portal.api.spec import ApiBlueprint
from portal.campaigns import services
from portal.campaigns.models import Campaign
from portal.extensions import db
from portal.kernel.text import whole

bp = ApiBlueprint("api_campaigns", __name__, url_prefix="/api/v1", description="Campaigns and coupons")

CAMPAIGNS_FORMAT = "campaigns-v1"
MEMBER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MEMBER = whole(MEMBER_PATTERN)
MEMBER_HINT = "the member's union id (letters, digits, '-', '_'; at most 64)."


class CampaignSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "coupon, flash_sale, bargain, group_buy, …"})
    name = ma.fields.String(required=True)
    rules = ma.fields.Dict(required=True, metadata={
        "description": "The kind's rules; every amount both in fen (<key>_fen) and as yuan text (<key>). "
                       "A flash sale lists its SKUs under items, each with sku, price_fen, price and quantity."})
    starts_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    ends_at = ma.fields.String(required=True, metadata={"format": "date-time"})


class CampaignListSchema(ma.Schema):
    campaigns = ma.fields.List(ma.fields.Nested(CampaignSchema), required=True)


def _member(value: str) -> None:
    if not MEMBER.match(value):
        raise ma.ValidationError(MEMBER_HINT)


class ClaimSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    member = ma.fields.String(required=True, validate=_member,
                              metadata={"pattern": MEMBER_PATTERN, "description": MEMBER_HINT})


class CouponSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "The coupon's code (CP…)."})
    campaign_id = ma.fields.Integer(required=True)
    member = ma.fields.String(required=True)
    coupon = ma.fields.Dict(required=True, metadata={
        "description": "What it is worth: discount, amount(_fen), percent, threshold(_fen)."})


@bp.route("/stores/<code>/campaigns", endpoint="list_campaigns")
@bp.response(200, CampaignListSchema, headers=ETAG_HEADER)
@bp.alt_response(304, description="Not modified: the copy the mini-program holds is current.")
def list_campaigns(code: str):
    """The campaigns the store runs right now"""
    store = current_store()
    return conditional(
        (CAMPAIGNS_FORMAT, store.id, services.running_version(store.id)),
        lambda: CampaignListSchema().dump(
            {"campaigns": [services.campaign_json(c) for c in services.running_in_store(store.id)]}))


@bp.route("/stores/<code>/coupons/<int:campaign_id>/claim", methods=["POST"], endpoint="claim_coupon")
@bp.arguments(ClaimSchema, as_kwargs=True)
@bp.response(201, CouponSchema)
def claim_coupon(code: str, campaign_id: int, member: str):
    """Claim one coupon of a running coupon campaign for a member (409 says why not)"""
    store = current_store()
    try:
        claim = services.claim_coupon(store, campaign_id, member)
    except services.ClaimRefused as exc:
        raise ApiError(409, exc.message, code=exc.code) from None
    return {"code": claim.code, "campaign_id": campaign_id, "member": member,
            "coupon": services.coupon_terms(db.session.get(Campaign, campaign_id).rules)}
