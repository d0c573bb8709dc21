"""CSV / Excel import and export of stores, and the blank Excel template (the file handling is
``portal.kernel.tabular``'s).

Import is all-or-nothing: every row is validated (with the same field rules as the store form)
before anything is written; then the write is set-based, whatever the number of rows.
Re-importing a file updates stores by code and creates no duplicates. A column the file does
not have leaves that field of existing stores as it is; a blank cell clears it (a blank status
keeps the status of an existing store, and makes a new one active). The region column takes a
region's (or distributor's) code or its name, as a Chinese HQ fills it in (R-SH or 华东一区); a
name that several parts of the organization share is refused on its row, asking for the code.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from werkzeug.datastructures import MultiDict

from portal.audit import services as audit
from portal.extensions import db
from portal.kernel.tabular import ImportResult, RowError, TableError, csv_chunks, read_table, xlsx_bytes
from portal.org import roles
from portal.org.forms import KIND_LABELS, STATUS_LABELS, StoreRowForm
from portal.org.models import OrgNode, Store, Tag, User, store_tags
from portal.org.scope import Scope
from portal.org.services import STORE_FIELDS, StoreFilter, filtered_stores, follow_stores, parse_tags, set_store_tags

# (field, English header, Chinese header). Either header names the column on import.
COLUMNS = (
    ("code", "code", "门店编码"),
    ("name", "name", "门店名称"),
    ("city", "city", "城市"),
    ("address", "address", "地址"),
    ("region", "region_code", "区域编码"),
    ("status", "status", "状态"),
    ("tags", "tags", "标签"),
    ("appid", "appid", "小程序AppID"),
    ("owner_name", "owner", "店主"),
    ("owner_phone", "owner_phone", "店主电话"),
)
# Columns the export adds for people to read; the import ignores them.
INFO_COLUMNS = (("region_name", "region_name", "区域名称"),)
REQUIRED = ("code", "name", "city", "region")
# The template's own header of the region column (it takes a name or a code), also accepted.
ALIASES = {"区域": "region", "region": "region"}
# The status words of a Chinese export. Fixed here, not taken from the catalog, so a file
# exported in one language imports in the other whatever the translation says.
ZH_STATUS = {roles.STORE_ACTIVE: "营业中", roles.STORE_SUSPENDED: "已暂停", roles.STORE_CLOSED: "已关闭"}


def _status_values() -> dict[str, str]:
    """Accepted status spellings: the code, the Chinese export words, and the label in the UI."""
    values = {s: s for s in roles.STORE_STATUSES}
    values.update({zh: code for code, zh in ZH_STATUS.items()})
    values.update({"暂停": roles.STORE_SUSPENDED, "关闭": roles.STORE_CLOSED, "正常": roles.STORE_ACTIVE})
    for code, label in STATUS_LABELS.items():
        values[str(label).lower()] = code
    return values


def import_stores(scope: Scope, raw: bytes, *, actor: User, filename: str = "") -> ImportResult:
    result = ImportResult()
    try:
        labels, rows, result.errors = read_table(raw, COLUMNS + INFO_COLUMNS, REQUIRED, aliases=ALIASES,
                                                 max_rows=current_app.config["IMPORT_MAX_ROWS"])
    except TableError as exc:
        result.errors.append(RowError(0, "", str(exc)))
        return result
    if any(e.line <= 1 for e in result.errors):
        return result                # the header is wrong or the file too long: the rows are not checked
    if not rows and not result.errors:
        result.errors.append(RowError(0, "", _("The file has no store rows.")))
        return result
    result.rows = len(rows)
    present = set(labels)

    nodes: dict[str, tuple] = {}
    by_name: dict[str, list[tuple]] = {}          # a region or distributor by its name
    for nid, code, path, kind, name in db.session.execute(
            select(OrgNode.id, OrgNode.code, OrgNode.path, OrgNode.kind, OrgNode.name).where(scope.nodes())):
        nodes[code.lower()] = (nid, path, kind)
        if kind != roles.HQ:
            by_name.setdefault(name.strip().lower(), []).append(((nid, path, kind), code))
    existing = {code.lower(): (sid, path) for sid, code, path in db.session.execute(
        select(Store.id, Store.code, Store.path))}
    statuses = _status_values()
    seen: dict[str, int] = {}
    clean = []
    form = StoreRowForm()            # one form, re-processed per row: binding 10,000 forms is slow
    for row in rows:
        line = row.pop("_line")
        form.process(MultiDict(row))
        form.validate()
        errs = [(name, str(msg)) for name, msgs in form.errors.items() for msg in msgs]
        status_text = (row.get("status") or "").strip()
        status = statuses.get(status_text.lower()) if status_text else None
        if status_text and status is None:
            errs.append(("status", _("Unknown status “%(s)s”.", s=status_text)))
        code = (form.code.data or "").lower()
        if code and not form.code.errors:
            if code in seen:
                errs.append(("code", _("Store code repeats row %(line)s.", line=seen[code])))
            else:
                seen[code] = line
            if code in existing and not scope.covers_path(existing[code][1]):
                errs.append(("code", _("This code is already in use.")))
        region = (form.region.data or "").lower()
        node = nodes.get(region)
        if region and not form.region.errors and (node is None or node[2] == roles.HQ):
            named = by_name.get(region, [])
            node = named[0][0] if len(named) == 1 else None
            if len(named) > 1:
                errs.append(("region", _("“%(name)s” is the name of %(n)s parts of the organization (%(codes)s): "
                                         "write the code of the one you mean.", name=form.region.data,
                                         n=len(named), codes="、".join(sorted(c for _n, c in named)))))
            elif node is None:
                errs.append(("region", _("No region or distributor “%(code)s” in your part of the organization.",
                                         code=form.region.data)))
        for name, msg in errs:
            result.errors.append(RowError(line, labels.get(name, name), msg))
        if not errs:
            data = {k: v for k, v in form.store_data().items() if k in present}
            data["code"] = form.code.data
            data["status"] = status          # None: keep the current one (active for a new store)
            clean.append((data, node, parse_tags(form.tags.data) if "tags" in present else None))
    if result.errors:
        result.errors.sort(key=lambda e: e.line)
        return result
    _write(clean, existing, result)
    audit.record(actor, "store.import", "store", None, filename or _("CSV import"),
                 scope.path, {"rows": result.rows, "created": result.created,
                              "updated": result.updated, "unchanged": result.unchanged})
    return result


NEW_STORE = {"address": "", "status": roles.STORE_ACTIVE, "appid": "", "owner_name": "", "owner_phone": ""}


def _write(clean: list, existing: dict, result: ImportResult) -> None:
    """Insert the new stores and update the changed ones, a few statements in all. In ``clean``
    a field that is absent (or a status / tags of None) keeps what the store has."""
    update_ids = [existing[d["code"].lower()][0] for d, _n, _t in clean if d["code"].lower() in existing]
    current = {}
    current_tags: dict[int, list[str]] = {}
    for chunk in _chunks(update_ids, 5000):
        for row in db.session.execute(select(Store.id, Store.node_id, *[getattr(Store, f) for f in STORE_FIELDS])
                                      .where(Store.id.in_(chunk))):
            current[row.id] = row
        for sid, name in db.session.execute(select(store_tags.c.store_id, Tag.name)
                                            .join(Tag, Tag.id == store_tags.c.tag_id)
                                            .where(store_tags.c.store_id.in_(chunk))):
            current_tags.setdefault(sid, []).append(name)
    inserts, updates, tag_sets, new_tags = [], [], {}, {}
    for data, (node_id, node_path, _kind), tags in clean:
        values = {k: v for k, v in data.items() if v is not None}
        key = data["code"].lower()
        if key not in existing:
            inserts.append({**NEW_STORE, **values, "node_id": node_id, "path": node_path})
            if tags:
                new_tags[key] = tags
            continue
        sid = existing[key][0]
        old = current[sid]
        changes = {k: v for k, v in values.items() if getattr(old, k) != v}
        if old.node_id != node_id:
            changes.update(node_id=node_id, path=node_path)
        tags_changed = tags is not None and sorted(current_tags.get(sid, [])) != sorted(tags)
        if changes:
            updates.append({"id": sid, **changes})
        if tags_changed:
            tag_sets[sid] = tags
        if changes or tags_changed:
            result.updated += 1
        else:
            result.unchanged += 1
    if inserts:
        db.session.execute(insert(Store), inserts)
        result.created = len(inserts)
        codes = list(new_tags)
        for chunk in _chunks(codes, 5000):
            for sid, code in db.session.execute(select(Store.id, Store.code).where(func.lower(Store.code).in_(chunk))):
                tag_sets[sid] = new_tags[code.lower()]
    if updates:
        db.session.execute(update(Store), updates)
        for chunk in _chunks([u["id"] for u in updates if "path" in u], 5000):
            follow_stores(chunk)          # a re-hung store's own goods go with it
    set_store_tags(tag_sets)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _use_zh() -> bool:
    return str(get_locale() or "").startswith("zh")


def export_rows(scope: Scope, flt: StoreFilter):
    """Yield CSV text (UTF-8 with BOM so Excel opens it right) of the filtered stores, with the
    headers and status words of the UI language; the import reads either language back."""
    yield from csv_chunks(*export_table(scope, flt))


def export_xlsx(scope: Scope, flt: StoreFilter) -> bytes:
    """The same table as ``export_rows``, as an Excel workbook."""
    header, rows = export_table(scope, flt)
    return xlsx_bytes(header, rows, title=_("Stores"))


def export_table(scope: Scope, flt: StoreFilter):
    """(header, rows) of the filtered stores; the rows are read from the database as they are written."""
    use_zh = _use_zh()
    header = [zh if use_zh else en for _f, en, zh in COLUMNS + INFO_COLUMNS]
    ids = filtered_stores(scope, flt).with_only_columns(Store.id).scalar_subquery()
    tags: dict[int, list[str]] = {}
    for sid, name in db.session.execute(select(store_tags.c.store_id, Tag.name)
                                        .join(Tag, Tag.id == store_tags.c.tag_id)
                                        .where(store_tags.c.store_id.in_(ids)).order_by(Tag.name)):
        tags.setdefault(sid, []).append(name)
    stmt = (select(Store, OrgNode.code, OrgNode.name).join(OrgNode, Store.node_id == OrgNode.id)
            .where(Store.id.in_(ids)).order_by(Store.code))
    rows = ((store.code, store.name, store.city, store.address, node_code,
             ZH_STATUS[store.status] if use_zh else store.status,
             ",".join(tags.get(store.id, [])), store.appid, store.owner_name, store.owner_phone, node_name)
            for store, node_code, node_name in db.session.execute(stmt.execution_options(yield_per=1000)))
    return header, rows


def template_xlsx(scope: Scope) -> bytes:
    """A blank import template: the columns with Chinese headers (in a Chinese UI) and one example
    row, a sheet on how to fill it in, and sheets of what the region and status columns accept
    (the user's regions and distributors by name and code, the status words)."""
    regions = db.session.execute(
        select(OrgNode.name, OrgNode.code, OrgNode.kind).where(scope.nodes(), OrgNode.kind != roles.HQ)
        .order_by(OrgNode.path)).all()
    use_zh = _use_zh()
    header = [("区域" if use_zh else "region") if f == "region" else (zh if use_zh else en) for f, en, zh in COLUMNS]
    example_region = regions[-1].name if regions else "华东一区"
    example = ["S000001", "示例门店·南京西路店", "上海", "南京西路1号", example_region,
               ZH_STATUS[roles.STORE_ACTIVE] if use_zh else roles.STORE_ACTIVE, "旗舰店,社区店", "", "张三",
               "13800000000"]
    notes = (_("How to fill it in"), [_("Column"), _("What to write")], [
        (header[0], _("Required. A store with this code is updated; a new code creates a store.")),
        (header[1], _("Required.")),
        (header[2], _("Required.")),
        (header[4], _("Required. The name or the code of a region or distributor (see the sheet “Regions”).")),
        (header[5], _("Blank keeps an existing store's status and makes a new one active (see the sheet “Statuses”).")),
        (header[6], _("Separate tags with commas.")),
        ("", _("Delete the example row before you import.")),
    ])
    regions_sheet = (_("Regions"), [_("Name"), _("Code"), _("Kind")],
                     [(name, code, str(KIND_LABELS.get(kind, kind))) for name, code, kind in regions])
    statuses = (_("Statuses"), [_("Write"), _("Meaning")],
                [(ZH_STATUS[s] if use_zh else s, str(STATUS_LABELS[s])) for s in roles.STORE_STATUSES])
    return xlsx_bytes(header, [example], title=_("Stores"), more=(notes, regions_sheet, statuses))
