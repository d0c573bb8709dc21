"""Import (CSV or Excel) and export (CSV or Excel) of the goods catalog, and the blank Excel
template: one row per SKU, all-or-nothing like the store import.

The file is read by ``portal.kernel.tabular.read_table`` (CSV in UTF-8 with or without BOM or
GBK, or .xlsx; Chinese or English headers; line numbers kept). Every row is checked with the product form's
SKU rules before anything is written. Products are matched by code, SKUs by SKU code:
re-importing a file updates what changed and creates no duplicates. SKUs of a product that the
file does not mention are kept. A blank floor or ceiling is the list price; a changed price
flows to the stores exactly as from the edit page (clamped, and the stores told).
"""
from __future__ import annotations

import re
from collections import defaultdict

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from wtforms.validators import ValidationError

from portal.audit import services as audit
from portal.extensions import db
from portal.goods import services
from portal.goods.forms import CODE_RE, SkuRowForm, commission_bp, commission_pct, commission_text
from portal.goods.models import Product, Sku
from portal.kernel.money import yuan_text
from portal.kernel.tabular import ImportResult, RowError, TableError, csv_chunks, read_table, xlsx_bytes
from portal.org.models import User
from portal.org.scope import Scope

COLUMNS = (
    ("product_code", "product_code", "商品编码"),
    ("product_name", "product_name", "商品名称"),
    ("category", "category", "分类"),
    ("sku_code", "sku_code", "SKU编码"),
    ("spec", "spec", "规格"),
    ("list_price", "list_price", "建议零售价"),
    ("price_floor", "price_floor", "最低价"),
    ("price_ceiling", "price_ceiling", "最高价"),
    ("direct_sale", "direct_sale", "总部供货"),
    ("commission", "commission", "佣金比例"),
)
# Headers files written before the column was renamed (直营 now means a company-owned store) still use.
LEGACY_COLUMNS = (("direct_sale", "direct_sale", "直营商品"),)
REQUIRED = ("product_code", "product_name", "category", "sku_code", "list_price")
YES = {"1", "y", "yes", "true", "是", "总部供货", "直营", "✓"}
NO = {"", "0", "n", "no", "false", "否"}


class _Field:
    def __init__(self, data):
        self.data = data


def import_catalog(scope: Scope, raw: bytes, *, actor: User, filename: str = "") -> ImportResult:
    result = ImportResult()
    try:
        labels, rows, result.errors = read_table(raw, COLUMNS + LEGACY_COLUMNS, REQUIRED,
                                                 max_rows=current_app.config["IMPORT_MAX_ROWS"])
    except TableError as exc:
        result.errors.append(RowError(0, "", str(exc)))
        return result
    if any(e.line <= 1 for e in result.errors):
        return result
    if not rows and not result.errors:
        result.errors.append(RowError(0, "", _("The file has no SKU rows.")))
        return result
    result.rows = len(rows)

    code_ok = re.compile(CODE_RE)
    existing = {p.code.lower(): p for p in db.session.scalars(select(Product).options(selectinload(Product.skus)))}
    sku_owner = {code.lower(): pcode.lower() for code, pcode in db.session.execute(
        select(Sku.code, Product.code).join(Product, Product.id == Sku.product_id))}
    products: dict[str, dict] = {}          # code → product data, with its first line
    skus: dict[str, list] = defaultdict(list)
    seen_skus: dict[str, int] = {}
    form = SkuRowForm()

    def err(line, name, message):
        result.errors.append(RowError(line, labels.get(name, name), message))

    for row in rows:
        line = row.pop("_line")
        pcode = (row.get("product_code") or "").strip()
        name = (row.get("product_name") or "").strip()
        category = (row.get("category") or "").strip()
        bad = False
        for fld, value, most in (("product_code", pcode, 32), ("product_name", name, 100), ("category", category, 50)):
            if not value:
                err(line, fld, _("This field is required."))
                bad = True
            elif len(value) > most:
                err(line, fld, _("At most %(n)s characters.", n=most))
                bad = True
        if pcode and not bad and not code_ok.match(pcode):
            err(line, "product_code", _("Letters, digits, '-', '_' and '.' only."))
            bad = True
        direct_text = (row.get("direct_sale") or "").strip().lower()
        if direct_text not in YES | NO:
            err(line, "direct_sale", _("Write 是 or 否 (yes or no)."))
            bad = True
        try:
            commission_pct(None, _Field(row.get("commission") or ""))
            commission = commission_bp(row.get("commission"))
        except ValidationError as exc:
            err(line, "commission", str(exc))
            bad = True
            commission = 0
        direct = direct_text in YES
        form.process(MultiDict({"code": row.get("sku_code") or "", "spec": row.get("spec") or "",
                                "list_price": row.get("list_price") or "", "price_floor": row.get("price_floor") or "",
                                "price_ceiling": row.get("price_ceiling") or ""}))
        if not form.validate() or form.is_blank():
            for fname, msgs in form.errors.items():
                for msg in msgs:
                    err(line, {"code": "sku_code"}.get(fname, fname), str(msg))
            if form.is_blank():
                err(line, "sku_code", _("This field is required."))
            bad = True
        sku_code = (form.code.data or "").lower()
        if sku_code and not form.code.errors:
            if sku_code in seen_skus:
                err(line, "sku_code", _("SKU code repeats row %(line)s.", line=seen_skus[sku_code]))
                bad = True
            else:
                seen_skus[sku_code] = line
            owner = sku_owner.get(sku_code)
            if owner is not None and pcode and owner != pcode.lower():
                err(line, "sku_code", _("This SKU code belongs to another product."))
                bad = True
        key = pcode.lower()
        if key and key in existing and not services.can_edit(scope, existing[key]):
            err(line, "product_code", _("This product code belongs to goods you may not change."))
            bad = True
        data = {"code": pcode, "name": name, "category": category, "direct_sale": direct,
                "commission_rate": commission if direct else 0}
        if key in products and not bad:
            first = products[key]
            for fld, col in (("name", "product_name"), ("category", "category"), ("direct_sale", "direct_sale"),
                             ("commission_rate", "commission")):
                if first[fld] != data[fld]:
                    err(line, col, _("Differs from line %(line)s of the same product.", line=first["_line"]))
                    bad = True
        if bad:
            continue
        products.setdefault(key, {**data, "_line": line})
        skus[key].append(form.sku_data())
    if result.errors:
        result.errors.sort(key=lambda e: e.line)
        return result

    clamped = 0
    for key, data in products.items():
        data = {k: v for k, v in data.items() if k != "_line"}
        product = existing.get(key)
        if product is None:
            product = Product(**data, description="", path=scope.path, store_id=None, archived=False)
            product.skus = [services.new_sku(s) for s in skus[key]]
            db.session.add(product)
            result.created += 1
            continue
        changed = False
        for fld in ("name", "category", "direct_sale", "commission_rate"):
            if getattr(product, fld) != data[fld]:
                setattr(product, fld, data[fld])
                changed = True
        by_code = {s.code.lower(): s for s in product.skus}
        for s in skus[key]:
            sku = by_code.get(s.code.lower())
            if sku is None:
                product.skus.append(services.new_sku(s))
                changed = True
                continue
            if sku.spec != s.spec:
                sku.spec = s.spec
                changed = True
            moved = services.reprice(product, sku, s)
            if moved is not None:
                clamped += moved
                changed = True
        if changed:
            result.updated += 1
        else:
            result.unchanged += 1
    db.session.flush()
    audit.record(actor, "product.import", "product", None, filename or _("CSV import"), scope.path,
                 {"rows": result.rows, "created": result.created, "updated": result.updated,
                  "unchanged": result.unchanged, "clamped": clamped})
    return result



# --------------------------------------------------------------------------- export and template

def _use_zh() -> bool:
    return str(get_locale() or "").startswith("zh")


def export_table(scope: Scope, flt: services.ProductFilter):
    """(header, rows) of the goods the list shows with ``flt`` (every page): one row per SKU, in
    the import's columns, so the file imports back unchanged. Two statements, whatever the size."""
    use_zh = _use_zh()
    header = [zh if use_zh else en for _f, en, zh in COLUMNS]
    yes, no = ("是", "否") if use_zh else ("yes", "no")
    products = db.session.scalars(services.filtered_products(scope, flt).order_by(Product.code)
                                  .options(selectinload(Product.skus))).all()
    rows = [(p.code, p.name, p.category, s.code, services.spec_text(s.spec), yuan_text(s.list_price),
             yuan_text(s.price_floor), yuan_text(s.price_ceiling), yes if p.direct_sale else no,
             commission_text(p.commission_rate) if p.direct_sale else "")
            for p in products for s in p.skus]
    return header, rows


def export_rows(scope: Scope, flt: services.ProductFilter):
    """CSV text of ``export_table`` (UTF-8 with a BOM, so Excel opens it right)."""
    yield from csv_chunks(*export_table(scope, flt))


def export_xlsx(scope: Scope, flt: services.ProductFilter) -> bytes:
    header, rows = export_table(scope, flt)
    return xlsx_bytes(header, rows, title=_("Goods"))


def template_xlsx(scope: Scope) -> bytes:
    """A blank import template: the columns with Chinese headers (in a Chinese UI), two example
    rows (one product, two SKUs), a sheet on how to fill it in and the categories in use."""
    use_zh = _use_zh()
    header = [zh if use_zh else en for _f, en, zh in COLUMNS]
    yes, no = ("是", "否") if use_zh else ("yes", "no")
    examples = [["CF-001", "美式咖啡", "咖啡", "CF-001-M", "规格:中杯", "18", "15", "22", no, ""],
                ["CF-001", "美式咖啡", "咖啡", "CF-001-L", "规格:大杯", "21", "", "", no, ""]]
    notes = (_("How to fill it in"), [_("Column"), _("What to write")], [
        (header[0], _("Required. One row per SKU: rows of the same product repeat its code, name and category.")),
        (header[3], _("Required. A SKU with this code is updated; a new code adds a SKU.")),
        (header[4], _("name:value pairs separated by “;”, e.g. 规格:大杯;温度:冰.")),
        (header[5], _("Required. In yuan, e.g. 18 or 18.50.")),
        (header[6], _("In yuan. Blank: the list price. Stores may not sell below it.")),
        (header[7], _("In yuan. Blank: the list price. Stores may not sell above it.")),
        (header[8], _("是 or 否 (yes or no).")),
        (header[9], _("A percentage from 0 to 100, for goods HQ ships only.")),
        ("", _("Delete the example rows before you import.")),
    ])
    categories = (_("Categories"), [_("Category")], [(c,) for c in services.categories(scope)])
    return xlsx_bytes(header, examples, title=_("Goods"), more=(notes, categories))
