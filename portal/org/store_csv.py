"""CSV import and export of stores.

Import is all-or-nothing: every row is validated (with the same field rules as the store form)
before anything is written; then the write is set-based, whatever the number of rows.
Re-importing a file updates stores by code and creates no duplicates. A column the file does
not have leaves that field of existing stores as it is; a blank cell clears it (a blank status
keeps the status of an existing store, and makes a new one active).
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import get_locale, gettext as _
from sqlalchemy import func, insert, select, update
from werkzeug.datastructures import MultiDict

from portal.audit import services as audit
from portal.extensions import db
from portal.org import roles
from portal.org.forms import STATUS_LABELS, StoreRowForm
from portal.org.models import OrgNode, Store, Tag, User, store_tags
from portal.org.scope import Scope
from portal.org.services import (STORE_FIELDS, StoreFilter, filtered_stores, follow_stores, parse_tags,
                                 set_store_tags)

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
# The status words of a Chinese export. Fixed here, not taken from the catalog, so a file
# exported in one language imports in the other whatever the translation says.
ZH_STATUS = {roles.STORE_ACTIVE: "营业中", roles.STORE_SUSPENDED: "已暂停", roles.STORE_CLOSED: "已关闭"}
# Characters that make Excel read a cell as a formula ("CSV injection"). The export writes such
# a cell with a leading apostrophe, Excel's "this is text" mark, and the import takes it off.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters never occur in a CSV people write: their presence means binary data.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _header_map(columns=COLUMNS + INFO_COLUMNS) -> dict[str, str]:
    names = {}
    for fld, en, zh in columns:
        names[en.lower()] = fld
        names[zh.lower()] = fld
        names[fld.lower()] = fld
    return names


def _status_values() -> dict[str, str]:
    """Accepted status spellings: the code, the Chinese export words, and the label in the UI."""
    values = {s: s for s in roles.STORE_STATUSES}
    values.update({zh: code for code, zh in ZH_STATUS.items()})
    values.update({"暂停": roles.STORE_SUSPENDED, "关闭": roles.STORE_CLOSED, "正常": roles.STORE_ACTIVE})
    for code, label in STATUS_LABELS.items():
        values[str(label).lower()] = code
    return values


@dataclass
class RowError:
    line: int          # line number in the file (the header is line 1); 0 for the whole file
    column: str        # the column's header as the file names it
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


def _not_text() -> ValueError:
    return ValueError(_("The file is neither UTF-8 nor GBK text. Save it from Excel as “CSV UTF-8” and try again."))


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GBK/GB18030 as Excel in China saves it.

    Anything else raises ValueError with a message for the user: an Excel workbook uploaded as
    it is, binary data, or text in another encoding (Latin-1, Windows-1252 …)."""
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):       # .xlsx (a zip) and .xls
        raise ValueError(_("This is an Excel workbook, not a CSV file. In Excel choose “Save As” › "
                           "“CSV UTF-8” and upload the saved file."))
    try:
        if raw.startswith(codecs.BOM_UTF8):
            text = raw[len(codecs.BOM_UTF8):].decode("utf-8")
        elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = raw.decode("utf-16")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
                if _misread_as_gbk(text):
                    raise _not_text() from None
    except UnicodeDecodeError:
        raise _not_text() from None
    if CONTROL.search(text):
        raise _not_text()
    return text


def _misread_as_gbk(text: str) -> bool:
    """Text in a single-byte encoding (Latin-1 "Zürich") often pairs up into valid GB18030
    characters, but rare ones: real Chinese is overwhelmingly in the GB2312 area (both bytes
    0xA1 or above, outside the user-defined rows that map to the private use area)."""
    wide = list(itertools.islice((c for c in text if c > "\x7f"), 20000))
    if not wide:
        return False
    common = 0
    for c in wide:
        b = c.encode("gb18030")
        if len(b) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1 and not "\ue000" <= c <= "\uf8ff":
            common += 1
    return common * 2 < len(wide)


def _from_cell(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def _to_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def parse(raw: bytes, columns=COLUMNS + INFO_COLUMNS, required=REQUIRED
          ) -> tuple[dict[str, str], list[dict], list[RowError]]:
    """Decode and split the file. ``columns`` are (field, English header, Chinese header) rows
    and ``required`` the fields that must have a column (the catalog import passes its own).

    Returns the columns found (field → header as the file spells it), the rows (field → value,
    with ``_line``, the line of the file the row starts on) and the problems found so far.
    Raises ValueError for a file that cannot be read at all."""
    text = decode(raw)
    if not text.strip():
        raise ValueError(_("The file is empty."))
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    names = _header_map(columns)
    labels: dict[str, str] = {}
    fields: list[str | None] = []      # per column: its field, or None (ignored, must stay blank)
    rows: list[dict] = []
    errors: list[RowError] = []
    line = 1
    try:
        for h in next(reader, []):
            name = h.replace("\ufeff", "").strip()      # a BOM left over from joining two files
            key = names.get(name.lower()) if name else None
            if name and key is None:
                errors.append(RowError(1, name, _("Unknown column “%(name)s”.", name=name)))
            elif key in labels:
                errors.append(RowError(1, name, _("Column “%(name)s” appears twice.", name=name)))
                key = None
            elif key:
                labels[key] = name
            fields.append(key)
        missing = [f"{zh} ({en})" for fld, en, zh in columns if fld in required and fld not in labels]
        if missing:
            errors.append(RowError(1, "", _("Missing columns: %(cols)s.", cols="、".join(missing))))
        line = reader.line_num + 1
        for values in reader:
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if any(v.strip() for f, v in itertools.zip_longest(fields, values) if f is None and v):
                errors.append(RowError(start, "", _("This row has more values than the header has columns.")))
                continue
            row = {}
            for f, v in zip(fields, values):
                if f is None:
                    continue
                if "\n" in v or "\r" in v:
                    errors.append(RowError(start, labels[f], _(
                        "This value runs over several lines: a closing quote (\") is probably missing.")))
                row[f] = _from_cell(v)
            row["_line"] = start
            rows.append(row)
    except csv.Error as exc:
        errors.append(RowError(line, "", _("The file could not be read as CSV: %(error)s", error=str(exc))))
    return labels, rows, errors


def import_stores(scope: Scope, raw: bytes, *, actor: User, filename: str = "") -> ImportResult:
    result = ImportResult()
    try:
        labels, rows, result.errors = parse(raw)
    except ValueError as exc:
        result.errors.append(RowError(0, "", str(exc)))
        return result
    if any(e.line <= 1 for e in result.errors):
        return result                # the header is wrong: the rows cannot be read meaningfully
    limit = current_app.config["IMPORT_MAX_ROWS"]
    if len(rows) > limit:
        result.errors.append(RowError(0, "", _("At most %(n)s rows per file.", n=limit)))
        return result
    if not rows and not result.errors:
        result.errors.append(RowError(0, "", _("The file has no store rows.")))
        return result
    result.rows = len(rows)
    present = set(labels)

    nodes = {code.lower(): (nid, path, kind) for nid, code, path, kind in db.session.execute(
        select(OrgNode.id, OrgNode.code, OrgNode.path, OrgNode.kind).where(scope.nodes()))}
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


def export_rows(scope: Scope, flt: StoreFilter):
    """Yield CSV text (UTF-8 with BOM so Excel opens it right) of the filtered stores, with the
    headers and status words of the UI language; the import reads either language back."""
    yield "\ufeff"
    out = io.StringIO()
    writer = csv.writer(out)
    use_zh = str(get_locale() or "").startswith("zh")
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
        writer.writerow([_to_cell(v) for v in (
            store.code, store.name, store.city, store.address, node_code,
            ZH_STATUS[store.status] if use_zh else store.status,
            ",".join(tags.get(store.id, [])), store.appid, store.owner_name, store.owner_phone, node_name)])
        if i % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
