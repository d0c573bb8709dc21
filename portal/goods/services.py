"""HQ's goods catalog: products and SKUs, their prices and images, and what a price change does
to the stores that set their own price.

Who sees what: a product belongs to the subtree of ``Product.path``. An admin sees the products
of their own subtree (their own, their distributors', their stores' local goods) and the
catalog of the nodes above them (a distributor sees HQ's catalog, read-only: HQ's goods are the
brand's and only HQ edits them). Editing needs the product inside the scope and not a store's
own local product (those are the store's to edit).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import selectinload

from portal.audit import services as audit
from portal.extensions import db
from portal.goods.models import Product, ProductImage, Sku
from portal.kernel.errors import RuleError
from portal.kernel.ids import parse_page
from portal.kernel.paging import Page, paginate
from portal.kernel.text import whole
from portal.media import images
from portal.media import services as media_services
from portal.media.models import MediaImage
from portal.org.models import Store, User
from portal.org.scope import Scope

PER_PAGE = 50

# What a price change does to the stores that sell the SKU is the shelf's business
# (``portal.shelf.prices`` connects to these), so the goods library knows nothing of shelves.
# Receivers run in the caller's transaction and answer a number of stores.
signals = Namespace()
price_change_asked = signals.signal("price-change-asked")    # sender: product; skus=[SkuData]
sku_repriced = signals.signal("sku-repriced")                # sender: product; sku=, old_list_price=
CODE_RE = whole(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


# --------------------------------------------------------------------------- specs

SPEC_SPLIT = re.compile(r"[;；\n]+")


def parse_spec(text: str) -> dict:
    """"规格:大杯;温度:冰" → {"规格": "大杯", "温度": "冰"}. ValueError for a part without a name."""
    spec: dict[str, str] = {}
    for part in SPEC_SPLIT.split(text or ""):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.replace("：", ":").partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValueError(_("Write each spec as name:value, separated by “;” (e.g. 规格:大杯;温度:冰)."))
        if name in spec:
            raise ValueError(_("Spec “%(name)s” appears twice.", name=name))
        if len(name) > 20 or len(value) > 40:
            raise ValueError(_("Spec names have at most 20 characters and values at most 40."))
        spec[name] = value
    return spec


def spec_text(spec: dict | None) -> str:
    return ";".join(f"{k}:{v}" for k, v in (spec or {}).items())


# --------------------------------------------------------------------------- scope

def _ancestors(path: str) -> list[str]:
    """"/1/4/17/" → ["/1/", "/1/4/"]: the nodes above (not including) the one at ``path``."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


def visible_products(scope: Scope):
    """The condition for products this scope may see (see the module's docstring). A store
    owner sees its own local goods and the catalog of the nodes above its store."""
    if scope.store_id is not None:
        store_path = db.session.scalar(select(Store.path).where(Store.id == scope.store_id))
        above = _ancestors(store_path) + [store_path]
        return or_(Product.store_id == scope.store_id,
                   and_(Product.store_id.is_(None), Product.path.in_(above)))
    above = _ancestors(scope.path)
    return or_(scope.paths(Product.path),
               and_(Product.store_id.is_(None), Product.path.in_(above)) if above else false())


def can_edit(scope: Scope, product: Product) -> bool:
    return scope.store_id is None and product.store_id is None and scope.covers_path(product.path)


def get_product(scope: Scope, product_id: int) -> Product | None:
    return db.session.scalar(select(Product).where(Product.id == product_id, visible_products(scope))
                             .options(selectinload(Product.skus), selectinload(Product.images)))


# --------------------------------------------------------------------------- listing

@dataclass
class ProductFilter:
    q: str = ""
    category: str = ""
    direct: str = ""          # "", "1" direct-sale only, "0" not direct-sale
    archived: str = ""        # "" active only, "1" archived only
    page: int = 1

    @classmethod
    def from_args(cls, args) -> ProductFilter:
        page = parse_page(args.get("page"))
        direct = args.get("direct", "")
        return cls(q=args.get("q", "").strip()[:100], category=args.get("category", "").strip()[:50],
                   direct=direct if direct in ("1", "0") else "", archived="1" if args.get("archived") == "1" else "",
                   page=page)

    def args(self, **changes) -> dict:
        values = {"q": self.q, "category": self.category, "direct": self.direct, "archived": self.archived,
                  "page": self.page}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}


def filtered_products(scope: Scope, flt: ProductFilter):
    stmt = select(Product).where(visible_products(scope), Product.archived.is_(flt.archived == "1"))
    if flt.q:
        like = f"%{flt.q}%"
        stmt = stmt.where(or_(Product.name.like(like), Product.code.ilike(like)))
    if flt.category:
        stmt = stmt.where(Product.category == flt.category)
    if flt.direct:
        stmt = stmt.where(Product.direct_sale.is_(flt.direct == "1"))
    return stmt


def list_products(scope: Scope, flt: ProductFilter, per_page: int = PER_PAGE) -> Page:
    ids = filtered_products(scope, flt).with_only_columns(Product.id)
    page = paginate(ids.order_by(Product.code), flt.page, per_page, clamp=True)
    found = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_(page.items))
        .options(selectinload(Product.skus), selectinload(Product.images)))}
    page.items = [found[i] for i in page.items]
    return page


def categories(scope: Scope) -> list[str]:
    return list(db.session.scalars(select(Product.category).where(visible_products(scope))
                                   .distinct().order_by(Product.category)))


# --------------------------------------------------------------------------- writes

@dataclass
class SkuData:
    code: str
    spec: dict
    list_price: int
    price_floor: int
    price_ceiling: int
    id: int | None = None


PRODUCT_FIELDS = ("code", "name", "category", "description", "direct_sale", "commission_rate")


def check_sku_prices(list_price: int, floor: int, ceiling: int) -> str | None:
    """The message for bounds that do not hold (floor ≤ list price ≤ ceiling), or None."""
    if floor > list_price:
        return _("The floor price may not be above the list price.")
    if list_price > ceiling:
        return _("The ceiling price may not be below the list price.")
    return None


def _check(scope: Scope, product: Product | None, data: dict, skus: list[SkuData]) -> None:
    code = data["code"]
    if not CODE_RE.match(code):
        raise RuleError(_("Use letters, digits, “-”, “_” or “.” only."), "code")
    if not 0 <= data["commission_rate"] <= 10000:
        raise RuleError(_("The commission is between 0 and 100%."), "commission")
    taken = db.session.scalar(select(Product.id).where(func.lower(Product.code) == code.lower()))
    if taken is not None and (product is None or taken != product.id):
        raise RuleError(_("Another product already has the code %(code)s.", code=code), "code")
    if not skus:
        raise RuleError(_("A product needs at least one SKU."))
    seen = set()
    own_ids = {s.id for s in product.skus} if product else set()
    for sku in skus:
        key = sku.code.lower()
        if not CODE_RE.match(sku.code):
            raise RuleError(_("SKU code %(code)s: use letters, digits, “-”, “_” or “.” only.", code=sku.code))
        if key in seen:
            raise RuleError(_("SKU code %(code)s is used twice.", code=sku.code))
        seen.add(key)
        problem = check_sku_prices(sku.list_price, sku.price_floor, sku.price_ceiling)
        if problem:
            raise RuleError(f"{sku.code}: {problem}")
        if sku.id is not None and sku.id not in own_ids:
            raise RuleError(_("This SKU no longer exists."))
    others = db.session.scalars(select(Sku.code).where(
        func.lower(Sku.code).in_(seen), Sku.product_id != (product.id if product else -1)))
    for other in others:
        raise RuleError(_("SKU code %(code)s belongs to another product.", code=other))


def create_product(scope: Scope, data: dict, skus: list[SkuData], *, actor: User) -> Product:
    _check(scope, None, data, skus)
    product = Product(**{k: data[k] for k in PRODUCT_FIELDS}, path=scope.path, store_id=None, archived=False)
    product.skus = [Sku(code=s.code, spec=s.spec, list_price=s.list_price, price_floor=s.price_floor,
                        price_ceiling=s.price_ceiling) for s in skus]
    db.session.add(product)
    db.session.flush()
    audit.record(actor, "product.create", "product", product.id, f"{product.code} {product.name}", scope.path,
                 {"skus": len(skus)})
    return product


def update_product(scope: Scope, product: Product, data: dict, skus: list[SkuData], *, actor: User) -> dict:
    """Save the product and its SKUs (a SKU left out is removed). A changed list price or bound
    flows to the stores at once: see ``reprice``. Returns counts of what changed."""
    if not can_edit(scope, product):
        raise RuleError(_("Only the owner of this product may change it."))
    _check(scope, product, data, skus)
    changes = {k: data[k] for k in PRODUCT_FIELDS if getattr(product, k) != data[k]}
    for k, v in changes.items():
        setattr(product, k, v)
    by_id = {s.id: s for s in product.skus}
    keep = {s.id for s in skus if s.id is not None}
    removed = [s for s in product.skus if s.id not in keep]
    for sku in removed:
        product.skus.remove(sku)
    db.session.flush()          # removed codes are free before a kept SKU takes one of them
    counts = {"clamped": 0, "repriced": 0, "added": 0, "removed": len(removed)}
    for s in skus:
        if s.id is None:
            product.skus.append(new_sku(s))
            counts["added"] += 1
            continue
        sku = by_id[s.id]
        sku.code, sku.spec = s.code, s.spec
        clamped = reprice(product, sku, s)
        if clamped is not None:
            counts["repriced"] += 1
            counts["clamped"] += clamped
    db.session.flush()
    audit.record(actor, "product.update", "product", product.id, f"{product.code} {product.name}", scope.path,
                 {**{k: str(v) for k, v in changes.items()},
                  **{k: v for k, v in counts.items() if v}})
    return counts


def new_sku(s: SkuData) -> Sku:
    return Sku(code=s.code, spec=s.spec, list_price=s.list_price, price_floor=s.price_floor,
               price_ceiling=s.price_ceiling)


def reprice(product: Product, sku: Sku, s: SkuData) -> int | None:
    """Give ``sku`` the prices of ``s``. None when they did not change; else the number of store
    prices clamped into the new bounds (``sku_repriced``: the shelf clamps them and tells every
    store whose price moves, in this flush)."""
    prices = (s.list_price, s.price_floor, s.price_ceiling)
    if prices == (sku.list_price, sku.price_floor, sku.price_ceiling):
        return None
    old_list_price = sku.list_price
    sku.list_price, sku.price_floor, sku.price_ceiling = prices
    db.session.flush()
    return _answers(sku_repriced, product, sku=sku, old_list_price=old_list_price)


def price_change_reach(product: Product, skus: list[SkuData]) -> int:
    """How many stores' prices saving ``skus`` (the edit form's rows) would change (the shelf
    answers, see ``price_change_asked``)."""
    return _answers(price_change_asked, product, skus=skus)


def _answers(signal, sender, **kwargs) -> int:
    return sum(answer or 0 for _receiver, answer in signal.send(sender, **kwargs))


def set_archived(scope: Scope, product: Product, archived: bool, *, actor: User) -> None:
    if not can_edit(scope, product):
        raise RuleError(_("Only the owner of this product may change it."))
    if product.archived != archived:
        product.archived = archived
        db.session.flush()
        audit.record(actor, "product.archive", "product", product.id, f"{product.code} {product.name}",
                     scope.path, {"archived": archived})


# --------------------------------------------------------------------------- what an assortment may hold

def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def pickable_products(scope: Scope):
    """HQ catalog products an admin may put in an assortment: those owned in its subtree or
    above it (a distributor pushes HQ's goods too); never a store's own goods."""
    return and_(Product.store_id.is_(None), Product.archived.is_(False),
                or_(scope.paths(Product.path), Product.path.in_(_ancestor_paths(scope.path or "/"))))


def pickable_skus(scope: Scope, codes: list[str]) -> dict[str, tuple[str, int]]:
    """The SKUs among ``codes`` (any case) of the products ``pickable_products`` lets the scope
    use: lower-cased code → (code as the catalog spells it, list price in fen). One query."""
    wanted = sorted({c.strip().lower() for c in codes if c and c.strip()})
    if not wanted:
        return {}
    rows = db.session.execute(select(Sku.code, Sku.list_price).join(Product, Product.id == Sku.product_id)
                              .where(func.lower(Sku.code).in_(wanted), pickable_products(scope))).all()
    return {code.lower(): (code, price) for code, price in rows}


# --------------------------------------------------------------------------- images

MAX_IMAGE_BYTES = images.MAX_BYTES
MAX_IMAGES = 10


def image_dir() -> str:
    path = current_app.config.get("GOODS_UPLOAD_DIR") or os.path.join(current_app.instance_path, "uploads", "goods")
    os.makedirs(path, exist_ok=True)
    return path


def add_image(scope: Scope, product: Product, raw: bytes, *, actor: User) -> ProductImage:
    """Check the upload is a JPEG, PNG or WebP picture by opening it, then keep it re-encoded
    (dropping anything hidden in it) with a thumbnail of at most 400 px, under random names
    (``portal.media.images``, which the image space uses too)."""
    if not can_edit(scope, product):
        raise RuleError(_("Only the owner of this product may change it."))
    encoded = images.encode(raw, "image")
    _check_room(product)
    name, thumb_name = images.save(image_dir(), encoded)
    return _add_image_row(scope, product, name, thumb_name, actor=actor)


def add_image_from_media(scope: Scope, product: Product, picture: MediaImage, *, actor: User) -> ProductImage:
    """Give the product a picture of the image space (which the caller found in the scope): a
    copy of its files, so deleting it from the image space leaves the product its picture."""
    if not can_edit(scope, product):
        raise RuleError(_("Only the owner of this product may change it."))
    _check_room(product)
    name, thumb_name = images.copy(media_services.media_dir(), picture.filename, picture.thumb, image_dir())
    return _add_image_row(scope, product, name, thumb_name, actor=actor)


def _check_room(product: Product) -> None:
    if len(product.images) >= MAX_IMAGES:
        raise RuleError(_("A product has at most %(n)s pictures.", n=MAX_IMAGES), "image")


def _add_image_row(scope: Scope, product: Product, name: str, thumb_name: str, *, actor: User) -> ProductImage:
    position = max((i.position for i in product.images), default=-1) + 1
    row = ProductImage(filename=name, thumb=thumb_name, position=position)
    product.images.append(row)        # the page shown after the upload lists it
    db.session.flush()
    db.session.expire(product, ["images"])      # the page drawn next (the htmx swap) shows the new one
    audit.record(actor, "product.image", "product", product.id, f"{product.code} {product.name}", scope.path,
                 {"added": name})
    return row


def remove_image(scope: Scope, product: Product, image: ProductImage, *, actor: User) -> None:
    if not can_edit(scope, product):
        raise RuleError(_("Only the owner of this product may change it."))
    names = (image.filename, image.thumb)
    product.images.remove(image)
    db.session.flush()
    for name in names:
        try:
            os.remove(os.path.join(image_dir(), name))
        except FileNotFoundError:
            pass
    audit.record(actor, "product.image", "product", product.id, f"{product.code} {product.name}", scope.path,
                 {"removed": names[0]})


def public_thumb(filename: str) -> bool:
    """Is ``filename`` the thumbnail of some product's picture (served without login)?"""
    return bool(images.NAME.match(filename)) and db.session.scalar(
        select(ProductImage.id).where(ProductImage.thumb == filename).limit(1)) is not None


# --------------------------------------------------------------------------- the goods picker

PICKER_PER_PAGE = 10


@dataclass
class PickerFilter:
    """The goods picker's search: name or code, category, page; ``mode`` says whether products
    ("products") or their SKUs ("skus") are picked, ``single`` whether one only."""

    q: str = ""
    category: str = ""
    page: int = 1
    mode: str = "products"
    single: bool = False

    @classmethod
    def from_args(cls, args) -> PickerFilter:
        return cls(q=args.get("q", "").strip()[:100], category=args.get("category", "").strip()[:50],
                   page=parse_page(args.get("page")), mode="skus" if args.get("mode") == "skus" else "products",
                   single=args.get("single") == "1")

    def args(self, **changes) -> dict:
        values = {"q": self.q, "category": self.category, "page": self.page, "mode": self.mode,
                  "single": "1" if self.single else ""}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}


def picker_page(scope: Scope, flt: PickerFilter, per_page: int = PICKER_PER_PAGE) -> Page:
    """One page of the goods ``scope`` may use in assortments, campaigns and blocks
    (``pickable_products``), searched by name or product/SKU code, with their SKUs and pictures:
    four statements whatever the page holds (count, ids, products, SKUs and pictures)."""
    stmt = select(Product.id).where(pickable_products(scope))
    if flt.q:
        like = f"%{flt.q}%"
        sku_match = select(Sku.id).where(Sku.product_id == Product.id, Sku.code.ilike(like)).exists()
        stmt = stmt.where(or_(Product.name.like(like), Product.code.ilike(like), sku_match))
    if flt.category:
        stmt = stmt.where(Product.category == flt.category)
    page = paginate(stmt.order_by(Product.code), flt.page, per_page, clamp=True)
    found = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_(page.items))
        .options(selectinload(Product.skus), selectinload(Product.images)))} if page.items else {}
    page.items = [found[i] for i in page.items if i in found]
    return page


def picker_categories(scope: Scope) -> list[str]:
    return list(db.session.scalars(select(Product.category).where(pickable_products(scope))
                                   .distinct().order_by(Product.category)))


@dataclass
class GoodsCard:
    """What a page shows of a picked product or SKU: its code, names, spec, list price and thumbnail."""

    code: str
    product_code: str
    name: str
    spec: str = ""
    list_price: int | None = None
    thumb: str | None = None


# Where a thumbnail is served, without login (``goods.media``): the mini-program APIs and the
# live provider's goods give this path, the pages link it.
MEDIA_PATH = "/media/goods/"


def thumb_path(thumb: str | None) -> str | None:
    """The path of a stored thumbnail's file name (``ProductImage.thumb``), or None."""
    return f"{MEDIA_PATH}{thumb}" if thumb else None


def first_thumbs(product_ids) -> dict[int, str]:
    """The first picture's thumbnail of each product, in one statement."""
    if not product_ids:
        return {}
    rows = db.session.execute(select(ProductImage.product_id, ProductImage.thumb)
                              .where(ProductImage.product_id.in_(list(product_ids)))
                              .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)).all()
    first: dict[int, str] = {}
    for pid, thumb in rows:
        first.setdefault(pid, thumb)
    return first


def sku_cards(scope: Scope, codes) -> dict[str, GoodsCard]:
    """The SKUs among ``codes`` the scope may use, by lower-cased code: two statements."""
    wanted = sorted({c.strip().lower() for c in codes if c and c.strip()})
    if not wanted:
        return {}
    rows = db.session.execute(select(Sku, Product.id, Product.code, Product.name)
                              .join(Product, Product.id == Sku.product_id)
                              .where(func.lower(Sku.code).in_(wanted), pickable_products(scope))).all()
    thumbs = first_thumbs({r[1] for r in rows})
    return {sku.code.lower(): GoodsCard(sku.code, pcode, name, " / ".join((sku.spec or {}).values()), sku.list_price,
                                          thumbs.get(pid))
            for sku, pid, pcode, name in rows}


def product_cards(scope: Scope, codes) -> dict[str, GoodsCard]:
    """The products among ``codes`` the scope may use, by lower-cased code: two statements."""
    wanted = sorted({c.strip().lower() for c in codes if c and c.strip()})
    if not wanted:
        return {}
    rows = db.session.execute(select(Product.id, Product.code, Product.name)
                              .where(func.lower(Product.code).in_(wanted), pickable_products(scope))).all()
    thumbs = first_thumbs({r.id for r in rows})
    return {r.code.lower(): GoodsCard(r.code, r.code, r.name, thumb=thumbs.get(r.id)) for r in rows}
