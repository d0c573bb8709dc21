"""Templates, versions, a store's effective page, and the template kind of the push engine."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import String, and_, delete, exists, func, insert, literal, select, update
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm.exc import StaleDataError

from portal.audit import services as audit
from portal.decoration.blocks import BLOCK_TYPES, validate_block_data
from portal.decoration.models import BlockOverride, StorePage, Template, TemplateVersion
from portal.extensions import db
from portal.kernel.errors import Conflict, RuleError
from portal.kernel.sql import insert_missing
from portal.kernel.time import UTCDateTime, utcnow
from portal.media.services import usage_asked as media_usage_asked
from portal.org.models import Store, User
from portal.org.scope import Scope
from portal.pushes.models import Delivery, Push
from portal.pushes.services import register_kind


def new_block_key() -> str:
    return secrets.token_hex(4)


# --------------------------------------------------------------------------- templates (HQ side)

def scoped_templates(scope: Scope):
    return select(Template).where(scope.paths(Template.path)).order_by(Template.updated_at.desc())


def create_template(scope: Scope, name: str, *, actor: User) -> Template:
    template = Template(name=name, path=scope.path, draft=[], created_by_id=actor.id)
    db.session.add(template)
    db.session.flush()
    audit.record(actor, "template.create", "template", template.id, name, scope.path)
    return template


STALE_DRAFT = _l("Someone else saved this template while you were editing it. Nothing of yours was "
                 "saved; your text is still in the form: look at their change, then save again.")


STALE_PUBLISH = _l("This template was just published or changed by someone else (or by a second click): "
                   "nothing more was published. Look at the versions below before publishing again.")


def check_revision(template: Template, seen: int | None, *, publishing: bool = False) -> None:
    """Refuse a change made from a page showing an older revision of the template (``seen``, from
    the editor's form; None when the request names none): someone else saved in between."""
    if seen is not None and seen != template.revision:
        raise Conflict(str(STALE_PUBLISH if publishing else STALE_DRAFT))


def _save(template: Template, *, publishing: bool = False) -> None:
    """Write the template: ``UPDATE ... WHERE revision = <read>`` (the model's version counter).
    Another editor's write that landed since our read makes it match nothing: refused, and
    nothing of this request is kept."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(str(STALE_PUBLISH if publishing else STALE_DRAFT)) from None


def _find(template: Template, key: str) -> int:
    for i, block in enumerate(template.draft):
        if block["key"] == key:
            return i
    raise RuleError(_("This block no longer exists."))


def _changed(template: Template, change: str, block_type: str, actor: User) -> None:
    audit.record(actor, "template.update", "template", template.id, template.name, template.path,
                 {"change": change, "block": block_type})


def add_block(scope: Scope, template: Template, block_type: str, *, actor: User,
              revision: int | None = None) -> dict:
    check_revision(template, revision)
    if block_type not in BLOCK_TYPES:
        raise RuleError(_("Unknown block type."), "type")
    block = {"key": new_block_key(), "type": block_type, "locked": True,
             "data": BLOCK_TYPES[block_type].default()}
    template.draft = [*template.draft, block]
    _save(template)
    _changed(template, "block_add", block_type, actor)
    return block


def update_block(scope: Scope, template: Template, key: str, data: dict, locked: bool, *, actor: User,
                 revision: int | None = None) -> None:
    """``data`` has been validated by the block's form."""
    check_revision(template, revision)
    i = _find(template, key)
    draft = [dict(b) for b in template.draft]
    draft[i] = {**draft[i], "data": data, "locked": bool(locked)}
    template.draft = draft
    _save(template)
    _changed(template, "block_edit", draft[i]["type"], actor)


def move_block(scope: Scope, template: Template, key: str, step: int, *, actor: User,
               revision: int | None = None) -> None:
    check_revision(template, revision)
    i = _find(template, key)
    block_type = template.draft[i]["type"]
    j = i + step
    if 0 <= j < len(template.draft):
        draft = list(template.draft)
        draft[i], draft[j] = draft[j], draft[i]
        template.draft = draft
        _save(template)
    _changed(template, "block_move", block_type, actor)


def remove_block(scope: Scope, template: Template, key: str, *, actor: User,
                 revision: int | None = None) -> None:
    check_revision(template, revision)
    i = _find(template, key)
    block_type = template.draft[i]["type"]
    template.draft = [b for k, b in enumerate(template.draft) if k != i]
    _save(template)
    _changed(template, "block_delete", block_type, actor)


def set_locked(scope: Scope, template: Template, key: str, locked: bool, *, actor: User,
               revision: int | None = None) -> None:
    check_revision(template, revision)
    i = _find(template, key)
    draft = [dict(b) for b in template.draft]
    draft[i]["locked"] = bool(locked)
    template.draft = draft
    _save(template)
    _changed(template, "block_lock" if locked else "block_unlock", draft[i]["type"], actor)


def publish(scope: Scope, template: Template, note: str, *, actor: User,
            revision: int | None = None) -> TemplateVersion:
    """Publish the draft as the next version. Of two publishes at once (a double click, two
    admins) the template's conditional UPDATE lets one through; the other is refused with a
    Conflict before it inserts a version, so the unique (template, number) never fires."""
    check_revision(template, revision, publishing=True)
    if not template.draft:
        raise RuleError(_("Add at least one block before publishing."))
    for block in template.draft:
        errors = validate_block_data(block["type"], block["data"])
        if errors:
            raise RuleError(_("Block “%(name)s” is incomplete: %(errors)s",
                              name=BLOCK_TYPES[block["type"]].label, errors="; ".join(errors)))
    template.latest_version += 1
    _save(template, publishing=True)
    version = TemplateVersion(template_id=template.id, number=template.latest_version,
                              blocks=[dict(b) for b in template.draft], note=note[:200],
                              published_by_id=actor.id)
    db.session.add(version)
    db.session.flush()
    audit.record(actor, "template.publish", "template", template.id,
                 f"{template.name} v{version.number}", scope.path, {"version": version.number})
    return version


# --------------------------------------------------------------------------- the store's page

@dataclass
class DroppedEdit:
    block_key: str
    block_type: str
    reason: str            # "removed" or "locked"


@dataclass
class EffectivePage:
    store: Store
    page: StorePage | None
    version: TemplateVersion | None
    blocks: list[dict]
    dropped: list[DroppedEdit]

    def to_json(self) -> dict:
        return {
            "store": {"code": self.store.code, "name": self.store.name},
            "template": {"id": self.version.template_id, "name": self.version.template.name} if self.version else None,
            "version": self.version.number if self.version else None,
            "blocks": [{"key": b["key"], "type": b["type"], "editable": not b["locked"],
                        "customized": b.get("customized", False), "data": b["data"]} for b in self.blocks],
        }


def effective_page(store: Store) -> EffectivePage:
    """The store's page = the version it was pushed + its own edits to blocks still editable."""
    page = db.session.get(StorePage, store.id)
    if page is None:
        return EffectivePage(store, None, None, [], [])
    version = db.session.get(TemplateVersion, page.version_id)
    overrides = {o.block_key: o for o in db.session.scalars(
        select(BlockOverride).where(BlockOverride.store_id == store.id,
                                    BlockOverride.template_id == version.template_id))}
    blocks, dropped = [], []
    by_key = {b["key"]: b for b in version.blocks}
    for block in version.blocks:
        o = overrides.get(block["key"])
        if o is not None and not block["locked"]:
            blocks.append({**block, "data": o.data, "customized": True})
        else:
            blocks.append({**block, "customized": False})
    for key, o in overrides.items():
        if key not in by_key:
            dropped.append(DroppedEdit(key, o.data.get("_type", ""), "removed"))
        elif by_key[key]["locked"]:
            dropped.append(DroppedEdit(key, by_key[key]["type"], "locked"))
    return EffectivePage(store, page, version, blocks, dropped)


def save_override(scope: Scope, store: Store, key: str, data: dict, *, actor: User) -> None:
    """A store's own content for one block. Locked blocks and blocks not on its page: refused."""
    page = effective_page(store)
    block = next((b for b in page.blocks if b["key"] == key), None)
    if block is None:
        raise RuleError(_("This block is not on your page."))
    if block["locked"]:
        raise RuleError(_("HQ has locked this block."))
    template_id = page.version.template_id
    mine = select(BlockOverride).where(
        BlockOverride.store_id == store.id, BlockOverride.template_id == template_id, BlockOverride.block_key == key)
    row = db.session.scalar(mine)
    data = {**data, "_type": block["type"]}
    if row is None:
        # Of two first saves at once (a double click) one inserts; the other writes over it.
        insert_missing(db.session, BlockOverride, store_id=store.id, template_id=template_id, block_key=key, data=data,
                       updated_at=utcnow())
        row = db.session.scalar(mine)
    row.data = data
    row.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "page.edit", "store", store.id, f"{store.name} ({store.code})", store.path,
                 {"block": block["type"]})


def reset_override(scope: Scope, store: Store, key: str, *, actor: User) -> bool:
    page = effective_page(store)
    if page.version is None:
        return False
    deleted = db.session.execute(delete(BlockOverride).where(
        BlockOverride.store_id == store.id, BlockOverride.template_id == page.version.template_id,
        BlockOverride.block_key == key)).rowcount
    if deleted:
        audit.record(actor, "page.reset", "store", store.id, f"{store.name} ({store.code})", store.path,
                     {"block": key})
    return bool(deleted)


def page_fingerprint(store_id: int) -> tuple | None:
    """What the page's ETag is made of, in one cheap query: no block JSON is read."""
    row = db.session.execute(
        select(StorePage.version_id, StorePage.updated_at,
               select(func.count(BlockOverride.id)).where(BlockOverride.store_id == store_id).scalar_subquery(),
               select(func.max(BlockOverride.updated_at)).where(BlockOverride.store_id == store_id).scalar_subquery())
        .where(StorePage.store_id == store_id)).first()
    return tuple(row) if row else None


# --------------------------------------------------------------------------- push kind

class TemplatePush:
    """Delivering a template version: the store's page points at the version."""

    name = "template"

    def has_it(self, push: Push):
        return exists().where(StorePage.store_id == Store.id, StorePage.version_id == push.payload_id)

    def previous(self, push: Push) -> dict:
        here = StorePage.store_id == Delivery.store_id
        return {"previous_id": select(StorePage.version_id).where(here).scalar_subquery(),
                "previous_push_id": select(StorePage.push_id).where(here).scalar_subquery()}

    def apply(self, push: Push, rows) -> None:
        now = utcnow()
        stores = select(Delivery.store_id).where(rows)
        # Stores that had a page get the new version; the others get a page row.
        db.session.execute(update(StorePage).where(StorePage.store_id.in_(stores))
                           .values(version_id=push.payload_id, push_id=push.id, updated_at=now))
        db.session.execute(insert(StorePage).from_select(
            ["store_id", "version_id", "push_id", "updated_at"],
            select(Delivery.store_id, literal(push.payload_id), literal(push.id),
                   literal(now, UTCDateTime()))
            .where(rows, ~exists().where(StorePage.store_id == Delivery.store_id))))

    def still_has(self, push: Push):
        return exists().where(StorePage.store_id == Delivery.store_id, StorePage.push_id == push.id)

    def revert(self, push: Push, rows) -> None:
        now = utcnow()
        mine = and_(rows, Delivery.store_id == StorePage.store_id)
        # Stores that had a page before get it back; stores that had none lose the page again.
        db.session.execute(
            update(StorePage)
            .where(StorePage.push_id == push.id,
                   exists().where(mine, Delivery.previous_id.is_not(None)))
            .values(version_id=select(Delivery.previous_id).where(mine).scalar_subquery(),
                    push_id=select(Delivery.previous_push_id).where(mine).scalar_subquery(),
                    updated_at=now))
        db.session.execute(delete(StorePage).where(StorePage.push_id == push.id,
                                                   exists().where(mine)))


register_kind(TemplatePush())


# --------------------------------------------------------------------------- pictures in use

@media_usage_asked.connect
def _pictures_in_use(picture, **_kwargs) -> list[str]:
    """Where a picture of the image space shows on a page (the image space refuses to delete it
    then): template drafts and published versions, and stores' own edits. Three queries over the
    blocks' JSON as text (the name is 128 random bits, so a match is the picture)."""
    like = f"%{picture.filename}%"
    places = [_("template “%(name)s”", name=name) for name in db.session.scalars(
        select(Template.name).where(sa_cast(Template.draft, String).like(like)).order_by(Template.name).limit(5))]
    versions = db.session.execute(
        select(Template.name, TemplateVersion.number).join(Template, Template.id == TemplateVersion.template_id)
        .where(sa_cast(TemplateVersion.blocks, String).like(like))
        .order_by(Template.name, TemplateVersion.number).limit(5)).all()
    places += [_("%(name)s v%(n)s", name=name, n=number) for name, number in versions]
    stores = db.session.scalar(select(func.count(func.distinct(BlockOverride.store_id)))
                               .where(sa_cast(BlockOverride.data, String).like(like)))
    if stores:
        places.append(ngettext("the page of %(num)s store", "the pages of %(num)s stores", stores))
    return places
