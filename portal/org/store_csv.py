"""CSV import and export of stores.

Import is all-or-nothing: every row is validated (with the same field rules as the store form)
before anything is written; then the write is set-based, whatever the number of rows.
Re-importing a file updates stores by code and creates no duplicates.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from werkzeug.datastructures import MultiDict

from portal.audit import services as audit
from portal.extensions import db
from portal.org import roles
from portal.org.forms import STATUS_LABELS, StoreRowForm
from portal.org.models import OrgNode, Store, Tag, User, store_tags
from portal.org.scope import Scope
from portal.org.services import STORE_FIELDS, StoreFilter, filtered_stores, parse_tags, set_store_tags

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


def _header_map() -> dict[str, str]:
    names = {}
    for fld, en, zh in COLUMNS + INFO_COLUMNS:
        names[en.lower()] = fld
        names[zh.lower()] = fld
        names[fld.lower()] = fld
    return names


def _status_values() -> dict[str, str]:
    """Accepted status spellings: the code, and its label in either language."""
    values = {s: s for s in roles.STORE_STATUSES}
    values.update({"营业中": roles.STORE_ACTIVE, "已暂停": roles.STORE_SUSPENDED, "已关闭": roles.STORE_CLOSED,
                   "暂停": roles.STORE_SUSPENDED, "关闭": roles.STORE_CLOSED, "正常": roles.STORE_ACTIVE})
    for code, label in STATUS_LABELS.items():
        values[str(label).lower()] = code
    return values


@dataclass
class RowError:
    line: int          # line number in the file (the header is line 1)
    column: str
    message: str


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030 as Excel in China saves it."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise ValueError(_("The file is neither UTF-8 nor GBK text. Save it from Excel as “CSV UTF-8” and try again."))


def parse(raw: bytes) -> tuple[list[str], list[dict], list[RowError]]:
    text = decode(raw)
    if not text.strip():
        raise ValueError(_("The file is empty."))
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, [])
    names = _header_map()
    fields, errors = [], []
    for i, h in enumerate(header):
        key = names.get(h.strip().lower())
        if key is None:
            errors.append(RowError(1, h, _("Unknown column “%(name)s”.", name=h.strip())))
        elif key in fields:
            errors.append(RowError(1, h, _("Column “%(name)s” appears twice.", name=h.strip())))
        fields.append(key)
    missing = [zh for fld, en, zh in COLUMNS if fld in REQUIRED and fld not in fields]
    if missing:
        errors.append(RowError(1, "", _("Missing columns: %(cols)s.", cols="、".join(missing))))
    rows = []
    for line_no, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(fields):
            errors.append(RowError(line_no, "", _("This row has more values than the header has columns.")))
            continue
        row = {f: v for f, v in zip(fields, values) if f}
        row["_line"] = line_no
        rows.append(row)
    return fields, rows, errors


def import_stores(scope: Scope, raw: bytes, *, actor: User, filename: str = "") -> ImportResult:
    result = ImportResult()
    try:
        _fields, rows, result.errors = parse(raw)
    except ValueError as exc:
        result.errors.append(RowError(0, "", str(exc)))
        return result
    if result.errors:
        return result
    limit = current_app.config["IMPORT_MAX_ROWS"]
    if len(rows) > limit:
        result.errors.append(RowError(0, "", _("At most %(n)s rows per file.", n=limit)))
        return result
    if not rows:
        result.errors.append(RowError(0, "", _("The file has no store rows.")))
        return result
    result.rows = len(rows)

    nodes = {code.lower(): (nid, path, kind) for nid, code, path, kind in db.session.execute(
        select(OrgNode.id, OrgNode.code, OrgNode.path, OrgNode.kind).where(scope.nodes()))}
    existing = {code.lower(): (sid, path) for sid, code, path in db.session.execute(
        select(Store.id, Store.code, Store.path))}
    statuses = _status_values()
    labels = {fld: zh for fld, _en, zh in COLUMNS}
    seen: dict[str, int] = {}
    clean = []
    for row in rows:
        line = row["_line"]
        status_text = (row.get("status") or "").strip()
        form = StoreRowForm(MultiDict({k: v for k, v in row.items() if k != "_line"}))
        form.validate()
        errs = [(name, str(msg)) for name, msgs in form.errors.items() for msg in msgs]
        status = statuses.get(status_text.lower()) if status_text else roles.STORE_ACTIVE
        if status is None:
            errs.append(("status", _("Unknown status “%(s)s”.", s=status_text)))
        code = (form.code.data or "").lower()
        if code and not form.code.errors:
            if code in seen:
                errs.append(("code", _("Store code repeats row %(line)s.", line=seen[code])))
            else:
                seen[code] = line
            if code in existing and not scope.covers_path(existing[code][1]):
                errs.append(("code", _("This code belongs to a store outside your part of the organization.")))
        region = (form.region.data or "").lower()
        node = nodes.get(region)
        if region and not form.region.errors and (node is None or node[2] == roles.HQ):
            errs.append(("region", _("No region or distributor “%(code)s” in your part of the organization.",
                                     code=form.region.data)))
        for name, msg in errs:
            result.errors.append(RowError(line, labels.get(name, name), msg))
        if not errs:
            data = form.store_data()
            data["status"] = status
            clean.append((data, node, parse_tags(form.tags.data)))
    if result.errors:
        return result
    _write(scope, clean, existing, result)
    audit.record(actor, "store.import", "store", None, filename or _("CSV import"),
                 scope.path, {"rows": result.rows, "created": result.created,
                              "updated": result.updated, "unchanged": result.unchanged})
    return result


def _write(scope: Scope, clean: list, existing: dict, result: ImportResult) -> None:
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
        key = data["code"].lower()
        if key not in existing:
            inserts.append({**data, "node_id": node_id, "path": node_path})
            new_tags[key] = tags
            continue
        sid = existing[key][0]
        old = current[sid]
        fields_changed = old.node_id != node_id or any(getattr(old, f) != data[f] for f in STORE_FIELDS)
        tags_changed = sorted(current_tags.get(sid, [])) != sorted(tags)
        if fields_changed:
            updates.append({"id": sid, **data, "node_id": node_id, "path": node_path})
        if tags_changed:
            tag_sets[sid] = tags
        if fields_changed or tags_changed:
            result.updated += 1
        else:
            result.unchanged += 1
    if inserts:
        db.session.execute(insert(Store), inserts)
        result.created = len(inserts)
        codes = list(new_tags)
        for chunk in _chunks(codes, 5000):
            for sid, code in db.session.execute(select(Store.id, Store.code).where(func.lower(Store.code).in_(chunk))):
                if new_tags.get(code.lower()):
                    tag_sets[sid] = new_tags[code.lower()]
    if updates:
        db.session.execute(update(Store), updates)
    set_store_tags(tag_sets)


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def export_rows(scope: Scope, flt: StoreFilter):
    """Yield CSV lines (UTF-8 with BOM so Excel opens it right) of the filtered stores."""
    yield "\ufeff"
    out = io.StringIO()
    writer = csv.writer(out)
    use_zh = str(_("Store code")) == "门店编码"
    writer.writerow([zh if use_zh else en for _f, en, zh in COLUMNS + INFO_COLUMNS])
    ids = filtered_stores(scope, flt).with_only_columns(Store.id).scalar_subquery()
    tags: dict[int, list[str]] = {}
    for sid, name in db.session.execute(select(store_tags.c.store_id, Tag.name)
                                        .join(Tag, Tag.id == store_tags.c.tag_id)
                                        .where(store_tags.c.store_id.in_(ids)).order_by(Tag.name)):
        tags.setdefault(sid, []).append(name)
    stmt = (select(Store, OrgNode.code, OrgNode.name).join(OrgNode, Store.node_id == OrgNode.id)
            .where(Store.id.in_(ids)).order_by(Store.code))
    for i, (store, node_code, node_name) in enumerate(db.session.execute(stmt.execution_options(yield_per=1000))):
        writer.writerow([store.code, store.name, store.city, store.address, node_code,
                         str(STATUS_LABELS[store.status]) if use_zh else store.status,
                         ",".join(tags.get(store.id, [])), store.appid, store.owner_name,
                         store.owner_phone, node_name])
        if i % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
