"""Campaign rules: the lifecycle, participation, stopping, and coupon claims whose budget holds.

A published campaign's state follows the clock: ``state_expr`` computes it in SQL (a CASE on the
current time), so lists filter and count by state without any job flipping rows.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, literal, or_, select, update

from portal.audit import services as audit
from portal.campaigns.forms import money_keys, rule_errors
from portal.campaigns.models import (
    CANCELLED,
    DECLINED,
    DRAFT,
    INVITED,
    JOINED,
    MANDATORY,
    OPT_IN,
    PUBLISHED,
    STOPPED,
    Campaign,
    CampaignStore,
    CouponClaim,
)
from portal.extensions import db
from portal.goods.models import Product, ProductImage, Sku
from portal.i18n import ngettext
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.money import yuan_text
from portal.kernel.time import UTCDateTime, utcnow
from portal.org.models import Store, User
from portal.org.roles import ADMINS
from portal.org.scope import Scope

STATES = ("draft", "scheduled", "running", "ended", "cancelled")
STORE_STATUSES = (INVITED, JOINED, DECLINED, STOPPED)


def _now(now: datetime | None = None):
    return literal(now or utcnow(), UTCDateTime())


def state_expr(now: datetime | None = None):
    """The campaign's state, in SQL: stored for drafts and cancelled ones, by the clock otherwise."""
    t = _now(now)
    return case((Campaign.status != PUBLISHED, Campaign.status),
                (Campaign.starts_at > t, "scheduled"),
                (Campaign.ends_at <= t, "ended"),
                else_="running")


def state_of(campaign: Campaign, now: datetime | None = None) -> str:
    if campaign.status != PUBLISHED:
        return campaign.status
    now = now or utcnow()
    if campaign.starts_at > now:
        return "scheduled"
    return "ended" if campaign.ends_at <= now else "running"


def visible(scope: Scope):
    """The campaigns a staff scope may see: those its subtree made (it manages them) and, read-only,
    those that reach at least one of its stores (HQ's campaigns in a distributor's or a region's
    stores). One SQL condition; the EXISTS walks the campaign's rows of ``campaign_stores`` by its
    primary key."""
    reaches = (select(CampaignStore.campaign_id).join(Store, Store.id == CampaignStore.store_id)
               .where(CampaignStore.campaign_id == Campaign.id, scope.stores()).correlate(Campaign).exists())
    return or_(scope.paths(Campaign.path), reaches)


def manages(scope: Scope, campaign: Campaign) -> bool:
    """HQ and distributors manage (edit, publish, push, cancel, stop) the campaigns their own
    subtree made; what reaches them from above they only read."""
    return scope.user is not None and scope.role in ADMINS and scope.covers_path(campaign.path)


def scoped_campaigns(scope: Scope, *, state: str = "", kind: str = "", q: str = "") -> Select:
    """(Campaign, state) rows a staff user may see (``visible``), newest first."""
    st = state_expr()
    stmt = select(Campaign, st.label("state")).where(visible(scope))
    if state in STATES:
        stmt = stmt.where(st == state)
    if kind:
        stmt = stmt.where(Campaign.kind == kind)
    if q:
        stmt = stmt.where(Campaign.name.like(f"%{q}%"))
    return stmt.order_by(Campaign.created_at.desc(), Campaign.id.desc())


def kind_counts(scope: Scope) -> dict[str, tuple[int, int]]:
    """Per kind, (campaigns, running ones) the scope may see: one grouped statement."""
    running = func.sum(case((state_expr() == "running", 1), else_=0))
    rows = db.session.execute(select(Campaign.kind, func.count(), running)
                              .where(scope.paths(Campaign.path)).group_by(Campaign.kind))
    return {kind: (total, int(run or 0)) for kind, total, run in rows}


def _budget(kind: str, rules: dict) -> int | None:
    return int(rules["budget"]) if kind == "coupon" else None


def create_campaign(scope: Scope, kind: str, name: str, rules: dict, starts_at: datetime, ends_at: datetime, *,
                    participation: str = MANDATORY, join_deadline: datetime | None = None,
                    discount_bearer: str = "hq", actor: User | None) -> Campaign:
    """A draft campaign owned by the acting subtree. ``rules`` were validated by the kind's form."""
    campaign = Campaign(kind=kind, name=name, rules=rules, starts_at=starts_at, ends_at=ends_at, status=DRAFT,
                        participation=participation,
                        join_deadline=join_deadline if participation == OPT_IN else None,
                        budget=_budget(kind, rules), issued=0, path=scope.path, discount_bearer=discount_bearer,
                        created_by_id=actor.id if actor else None)
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor, "campaign.create", "campaign", campaign.id, name, scope.path, {"kind": kind})
    return campaign


def update_campaign(scope: Scope, campaign: Campaign, name: str, rules: dict, starts_at: datetime,
                    ends_at: datetime, *, participation: str, join_deadline: datetime | None,
                    discount_bearer: str | None = None, actor: User) -> None:
    if campaign.status != DRAFT:
        raise RuleError(_("Only a draft can be edited."))
    _set_if(campaign, Campaign.status == DRAFT, CHANGED_SINCE_EDIT,
            name=name, rules=rules, starts_at=starts_at, ends_at=ends_at, participation=participation,
            join_deadline=join_deadline if participation == OPT_IN else None, budget=_budget(campaign.kind, rules),
            discount_bearer=discount_bearer or campaign.discount_bearer)
    audit.record(actor, "campaign.update", "campaign", campaign.id, name, campaign.path)


def publish_campaign(scope: Scope, campaign: Campaign, *, actor: User | None) -> None:
    """Publish a draft whose rules still hold in ``scope`` (its SKUs still in the catalog, its
    prices still below their list prices): a draft saved before HQ changed a price is refused."""
    if campaign.status != DRAFT:
        raise RuleError(_("Only a draft can be published."))
    errors = rule_errors(campaign.kind, campaign.rules, (campaign.starts_at, campaign.ends_at),
                         scope=scope)
    if errors:
        raise RuleError(_("The rules no longer hold; edit the draft: %(errors)s",
                          errors="; ".join(e for field in errors.values() for e in field)))
    _set_if(campaign, Campaign.status == DRAFT, CHANGED_SINCE_PUBLISH, status=PUBLISHED)
    audit.record(actor, "campaign.publish", "campaign", campaign.id, campaign.name, campaign.path)


def cancel_campaign(scope: Scope, campaign: Campaign, *, actor: User) -> None:
    if state_of(campaign) in ("ended", "cancelled"):
        raise RuleError(_("This campaign has already ended."))
    _set_if(campaign, or_(Campaign.status == DRAFT, and_(Campaign.status == PUBLISHED, Campaign.ends_at > _now())),
            CHANGED_SINCE_CANCEL, status=CANCELLED)
    audit.record(actor, "campaign.cancel", "campaign", campaign.id, campaign.name, campaign.path)


CHANGED_SINCE_EDIT = _l("Someone else published or cancelled this campaign while you were editing it: "
                        "nothing was saved.")
CHANGED_SINCE_PUBLISH = _l("Someone else published or cancelled this campaign just now: nothing more was done.")
CHANGED_SINCE_CANCEL = _l("This campaign was cancelled or changed by someone else just now: nothing more was done.")


def _set_if(campaign: Campaign, condition, message, **values) -> None:
    """``UPDATE campaigns SET ... WHERE id = ? AND <condition>``: the state the service checked is
    still the state written over, or nothing is written and the caller is told (409)."""
    done = db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id, condition)
        .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Conflict(str(message))
    db.session.expire(campaign)


def participation_counts(scope: Scope, campaign: Campaign) -> dict[str, int]:
    rows = db.session.execute(
        select(CampaignStore.status, func.count()).join(Store, Store.id == CampaignStore.store_id)
        .where(CampaignStore.campaign_id == campaign.id, scope.stores()).group_by(CampaignStore.status)).all()
    counts = {s: 0 for s in STORE_STATUSES}
    counts.update(dict(rows))
    return counts


def issued_in_scope(scope: Scope, campaign: Campaign) -> int:
    """Coupons of the campaign claimed in the scope's stores (what a reader from below sees
    instead of the campaign-wide count)."""
    return db.session.scalar(
        select(func.count()).select_from(CouponClaim).join(Store, Store.id == CouponClaim.store_id)
        .where(CouponClaim.campaign_id == campaign.id, scope.stores()))


def participants(scope: Scope, campaign: Campaign, *, status: str = "", q: str = "") -> Select:
    stmt = (select(CampaignStore, Store).join(Store, Store.id == CampaignStore.store_id)
            .where(CampaignStore.campaign_id == campaign.id, scope.stores()).order_by(Store.code))
    if status in STORE_STATUSES:
        stmt = stmt.where(CampaignStore.status == status)
    if q:
        stmt = stmt.where(Store.code.ilike(f"%{q}%") | Store.name.like(f"%{q}%"))
    return stmt


def stop_campaign(scope: Scope, campaign: Campaign, store_ids: list[int] | Select | None, *, actor: User) -> int:
    """Stop a campaign in every store of the scope (``store_ids`` None) or in the named ones (a
    list, or a SELECT of ids such as a target's selection), in one statement; ids outside the
    scope are ignored. Returns how many stores stopped."""
    if state_of(campaign) not in ("scheduled", "running"):
        raise RuleError(_("Only a scheduled or running campaign can be stopped."))
    stores = select(Store.id).where(scope.stores())
    if store_ids is not None:
        stores = stores.where(Store.id.in_(store_ids))
    result = db.session.execute(
        update(CampaignStore)
        .where(CampaignStore.campaign_id == campaign.id, CampaignStore.status.in_((JOINED, INVITED)),
               CampaignStore.store_id.in_(stores))
        .values(status=STOPPED, updated_at=utcnow()).execution_options(synchronize_session=False))
    audit.record(actor, "campaign.stop", "campaign", campaign.id, campaign.name, campaign.path,
                 {"stores": result.rowcount, "all": store_ids is None})
    return result.rowcount


# --------------------------------------------------------------------------- the store's side

def offers(store_id: int) -> list:
    """(Campaign, CampaignStore, state) of every campaign offered to the store, newest first."""
    return db.session.execute(
        select(Campaign, CampaignStore, state_expr().label("state"))
        .join(CampaignStore, CampaignStore.campaign_id == Campaign.id)
        .where(CampaignStore.store_id == store_id, Campaign.status != DRAFT)
        .order_by(Campaign.starts_at.desc(), Campaign.id.desc())).all()


@dataclass
class OfferGood:
    """A SKU a campaign sells, as its card shows it: picture, name, list price → campaign price."""

    sku: str
    name: str
    spec: str
    thumb: str | None
    list_price: int
    price: int | None          # the campaign's price (a bargain: the floor it can reach); None: unknown SKU


# The rule holding the price (in fen) of the one SKU a bargain or a group buy names; a flash
# sale prices each of its SKUs in its own row of ``items``.
PRICE_RULE = {"group_buy": "price_fen", "bargain": "floor_price_fen"}


def rule_prices(campaign: Campaign) -> list[tuple[str, int | None]]:
    """The SKU codes a campaign's rules name with the campaign's price of each, in their order
    (a flash sale several, a bargain or a group buy one, coupons and distribution plans none)."""
    rules = campaign.rules or {}
    if campaign.kind == "flash_sale":
        return [(row["sku"], row.get("price_fen")) for row in rules.get("items") or []
                if isinstance(row, dict) and row.get("sku")]
    if campaign.kind in PRICE_RULE and rules.get("sku"):
        return [(rules["sku"], rules.get(PRICE_RULE[campaign.kind]))]
    return []


def rule_skus(campaign: Campaign) -> list[str]:
    return [code for code, _price in rule_prices(campaign)]


def sale_quantity(campaign: Campaign) -> int | None:
    """How many a flash sale sells in all (the sum of its SKUs' quantities)."""
    items = (campaign.rules or {}).get("items") if campaign.kind == "flash_sale" else None
    quantities = [row.get("quantity") for row in items or [] if isinstance(row, dict)]
    return sum(q for q in quantities if isinstance(q, int)) or None


def offer_goods(campaigns: list[Campaign]) -> dict[int, list[OfferGood]]:
    """Campaign id → the goods it sells, with their pictures and both prices: ONE query for any
    number of campaigns (or none when no campaign names a SKU)."""
    wanted = {c.id: rule_prices(c) for c in campaigns}
    codes = sorted({code for named in wanted.values() for code, _price in named})
    if not codes:
        return {c.id: [] for c in campaigns}
    thumb = (select(ProductImage.thumb).where(ProductImage.product_id == Product.id)
             .order_by(ProductImage.position, ProductImage.id).limit(1).scalar_subquery())
    found = {r.code: r for r in db.session.execute(
        select(Sku.code, Sku.spec, Sku.list_price, Product.name, thumb.label("thumb"))
        .join(Product, Product.id == Sku.product_id).where(Sku.code.in_(codes)))}
    out = {}
    for c in campaigns:
        goods = []
        for code, price in wanted[c.id]:
            r = found.get(code)
            if r is None:       # deleted from the catalog since: still named, never hidden
                goods.append(OfferGood(code, code, "", None, 0, price))
                continue
            spec = " / ".join(str(v) for v in (r.spec or {}).values())
            goods.append(OfferGood(code, r.name, spec, r.thumb, r.list_price, price))
        out[c.id] = goods
    return out


def sale_window(campaign: Campaign) -> tuple[datetime, datetime] | None:
    """A flash sale's own sale window (inside the campaign's), as UTC instants."""
    rules = campaign.rules or {}
    if campaign.kind != "flash_sale" or not rules.get("sale_starts") or not rules.get("sale_ends"):
        return None
    return datetime.fromisoformat(rules["sale_starts"]), datetime.fromisoformat(rules["sale_ends"])


def can_decide(campaign: Campaign, part: CampaignStore, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (campaign.participation == OPT_IN and state_of(campaign, now) in ("scheduled", "running")
            and part.status in (INVITED, JOINED, DECLINED)
            and campaign.join_deadline is not None and now < campaign.join_deadline)


def decide(scope: Scope, campaign: Campaign, part: CampaignStore, join: bool, *, actor: User) -> None:
    """A store joins or declines an opt-in campaign, before its deadline."""
    if campaign.participation == MANDATORY:
        raise RuleError(_("HQ requires this campaign: every store runs it."))
    if part.status == STOPPED:
        raise RuleError(_("HQ has stopped this campaign in your store."))
    if state_of(campaign) not in ("scheduled", "running"):
        raise RuleError(_("This campaign is over."))
    if campaign.join_deadline is None or utcnow() >= campaign.join_deadline:
        raise RuleError(_("The join deadline has passed: HQ no longer takes answers for this campaign."))
    # One conditional UPDATE: HQ's "stopped" (or a cancel, or the campaign ending) written since
    # the store's page was read makes it match nothing, so a join never revives a stopped campaign.
    now = _now()
    still_open = (select(Campaign.id).where(Campaign.id == CampaignStore.campaign_id, Campaign.status == PUBLISHED,
                                            Campaign.ends_at > now, Campaign.join_deadline > now)
                  .correlate(CampaignStore).exists())
    answered = db.session.execute(
        update(CampaignStore)
        .where(CampaignStore.campaign_id == part.campaign_id, CampaignStore.store_id == part.store_id,
               CampaignStore.status.in_((INVITED, JOINED, DECLINED)), still_open)
        .values(status=JOINED if join else DECLINED, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not answered:
        raise Conflict(_("HQ stopped or cancelled this campaign a moment ago: your answer was not recorded."))
    db.session.expire(part)
    store = db.session.get(Store, part.store_id)
    audit.record(actor, "campaign.join" if join else "campaign.decline", "campaign", campaign.id, campaign.name,
                 store.path, {"store": store.code})


def running_in_store(store_id: int, now: datetime | None = None) -> list[Campaign]:
    """The campaigns the store runs right now: published, inside their window, joined."""
    t = _now(now)
    return list(db.session.scalars(
        select(Campaign).join(CampaignStore, CampaignStore.campaign_id == Campaign.id)
        .where(CampaignStore.store_id == store_id, CampaignStore.status == JOINED, Campaign.status == PUBLISHED,
               Campaign.starts_at <= t, Campaign.ends_at > t)
        .order_by(Campaign.ends_at, Campaign.id)))


def running_version(store_id: int) -> tuple:
    """A cheap version of ``running_in_store``, for the campaigns API's ETag: one query of
    aggregates over the same rows (which campaigns run here now, and their latest change: name,
    rules and schedule move ``campaigns.updated_at``), no rules read. Time is in the filter, so a
    campaign that starts or ends moves it with no write at all."""
    t = _now()
    row = db.session.execute(
        select(func.count(), func.sum(Campaign.id), func.max(Campaign.updated_at), func.max(CampaignStore.updated_at))
        .select_from(Campaign).join(CampaignStore, CampaignStore.campaign_id == Campaign.id)
        .where(CampaignStore.store_id == store_id, CampaignStore.status == JOINED, Campaign.status == PUBLISHED,
               Campaign.starts_at <= t, Campaign.ends_at > t)).one()
    return tuple(row)


def rules_json(kind: str, rules: dict) -> dict:
    """Rules for the mini-program: every amount both in fen (``price_fen``) and as yuan text
    (``price``: "9.90"), as the goods API gives prices."""
    out = dict(rules)
    for key in money_keys(kind):
        fen = rules.get(f"{key}_fen")
        out[key] = yuan_text(fen) if fen is not None else None
    if isinstance(rules.get("items"), list):          # a flash sale's SKUs, each with its own price
        out["items"] = [{**row, "price": yuan_text(row.get("price_fen")) if row.get("price_fen") is not None else None}
                        for row in rules["items"] if isinstance(row, dict)]
    return out


def campaign_json(c: Campaign) -> dict:
    return {"id": c.id, "kind": c.kind, "name": c.name, "rules": rules_json(c.kind, c.rules),
            "starts_at": c.starts_at.isoformat(), "ends_at": c.ends_at.isoformat()}


def coupon_terms(rules: dict) -> dict:
    """What a claimed coupon is worth, read from the stored rules (amounts in fen)."""
    terms = rules_json("coupon", rules)
    return {k: terms.get(k) for k in ("discount", "amount", "amount_fen", "percent", "threshold", "threshold_fen")}


# --------------------------------------------------------------------------- coupon claims

class ClaimRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def claim_coupon(store: Store, campaign_id: int, member: str) -> CouponClaim:
    """Issue one coupon to a member in a store, or raise ClaimRefused saying why not.

    The budget holds under any concurrency: one ``UPDATE … SET issued = issued + 1 WHERE
    issued < budget`` decides (its row count), in the same transaction as the claim row. The
    update also locks the campaign row until the commit, so claims of one campaign run one at a
    time from there on and the per-member count read after it is exact."""
    t = _now()
    running = db.session.execute(
        select(Campaign.kind, Campaign.rules).join(CampaignStore, CampaignStore.campaign_id == Campaign.id)
        .where(Campaign.id == campaign_id, CampaignStore.store_id == store.id, CampaignStore.status == JOINED,
               Campaign.status == PUBLISHED, Campaign.starts_at <= t, Campaign.ends_at > t)).first()
    if running is None:
        raise ClaimRefused("not_running_here", _("This campaign is not running in this store."))
    if running.kind != "coupon":
        raise ClaimRefused("not_a_coupon", _("This campaign does not issue coupons."))
    took = db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.issued < Campaign.budget)
        .values(issued=Campaign.issued + 1).execution_options(synchronize_session=False))
    if took.rowcount != 1:
        raise ClaimRefused("budget_exhausted", _("All the coupons of this campaign have been issued."))
    limit = int(running.rules.get("per_member") or 1)
    held = db.session.scalar(select(func.count()).select_from(CouponClaim)
                             .where(CouponClaim.campaign_id == campaign_id, CouponClaim.member == member))
    if held >= limit:
        # Give the coupon back inside the same transaction (the row is still ours).
        db.session.execute(update(Campaign).where(Campaign.id == campaign_id)
                           .values(issued=Campaign.issued - 1).execution_options(synchronize_session=False))
        raise ClaimRefused("member_limit", ngettext("This member already has %(num)s coupon of this campaign.",
                                                    "This member already has %(num)s coupons of this campaign.", limit))
    claim = CouponClaim(campaign_id=campaign_id, store_id=store.id, member=member,
                        code="CP" + secrets.token_hex(8).upper())
    db.session.add(claim)
    db.session.flush()
    return claim
