"""The image space: who sees which pictures, upload, rename, delete.

Who sees what: a picture belongs to an org node (``MediaImage.path``). A user sees the pictures
of its own node and of the nodes above it (HQ's pictures are usable by everyone below); a store
owner those of the nodes above its store. Only the node's own people upload, rename or delete
(HQ does not reach down into a distributor's space, nor a distributor up into HQ's).

A picture still used somewhere may not be deleted: the domains that store picture addresses
answer ``usage_asked`` (sender: the picture; answer: a list of readable places).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.audit import services as audit
from portal.extensions import db
from portal.kernel.errors import RuleError
from portal.kernel.ids import parse_page
from portal.kernel.paging import Page, paginate
from portal.media import images
from portal.media.models import MediaImage
from portal.org.models import Store, User
from portal.org.scope import Scope

PER_PAGE = 24
URL_PREFIX = "/media/i/"
# The address of a kept picture, as blocks store it.
URL_RE = re.compile(r"/media/i/([0-9a-f]{32}\.(?:jpg|png|webp))")

signals = Namespace()
usage_asked = signals.signal("media-usage-asked")      # sender: MediaImage; answer: list[str]


def media_dir() -> str:
    path = current_app.config.get("MEDIA_UPLOAD_DIR") or os.path.join(current_app.instance_path, "uploads", "media")
    os.makedirs(path, exist_ok=True)
    return path


def _self_and_above(path: str) -> list[str]:
    """"/1/4/17/" → ["/1/", "/1/4/", "/1/4/17/"]."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def usable_paths(scope: Scope) -> list[str]:
    if scope.store_id is not None:
        store_path = db.session.scalar(select(Store.path).where(Store.id == scope.store_id))
        return _self_and_above(store_path)
    return _self_and_above(scope.path)


def visible_images(scope: Scope, paths: list[str] | None = None):
    return MediaImage.path.in_(paths if paths is not None else usable_paths(scope))


def can_upload(scope: Scope) -> bool:
    return scope.store_id is None


def can_change(scope: Scope, image: MediaImage) -> bool:
    return scope.store_id is None and image.path == scope.path


def get_image(scope: Scope, image_id: int) -> MediaImage | None:
    return db.session.scalar(select(MediaImage).where(MediaImage.id == image_id, visible_images(scope)))


@dataclass
class MediaFilter:
    q: str = ""
    owner: str = ""       # "" every usable picture, "mine" the node's own only
    page: int = 1

    @classmethod
    def from_args(cls, args) -> MediaFilter:
        return cls(q=args.get("q", "").strip()[:100], owner="mine" if args.get("owner") == "mine" else "",
                   page=parse_page(args.get("page")))

    def args(self, **changes) -> dict:
        values = {"q": self.q, "owner": self.owner, "page": self.page}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)}


def list_images(scope: Scope, flt: MediaFilter, per_page: int = PER_PAGE) -> Page:
    """One page of the usable pictures, newest first: a count and one SELECT."""
    paths = [scope.path] if flt.owner == "mine" and scope.store_id is None else usable_paths(scope)
    stmt = select(MediaImage).where(visible_images(scope, paths))
    if flt.q:
        stmt = stmt.where(MediaImage.name.like(f"%{flt.q}%"))
    return paginate(stmt.order_by(MediaImage.id.desc()), flt.page, per_page, clamp=True)


def by_url(urls: list[str]) -> dict[str, MediaImage]:
    """The kept pictures among ``urls`` (block image addresses): url → picture. One query."""
    names = {m.group(1) for u in urls if u and (m := URL_RE.fullmatch(u))}
    if not names:
        return {}
    return {i.url: i for i in db.session.scalars(select(MediaImage).where(MediaImage.filename.in_(names)))}


def clean_name(name: str, fallback: str = "") -> str:
    name = " ".join((name or "").split())
    if not name:
        name = os.path.splitext(os.path.basename(fallback or ""))[0].strip() or _("Picture")
    return name[:100]


def upload_image(scope: Scope, raw: bytes, filename: str, *, actor: User, name: str = "") -> MediaImage:
    """Keep an uploaded picture in the scope's own node (re-encoded, with a thumbnail)."""
    if not can_upload(scope):
        raise RuleError(_("Store owners use the pictures HQ provides."), "files")
    encoded = images.encode(raw, "files")
    folder = media_dir()
    full, thumb = images.save(folder, encoded)
    image = MediaImage(path=scope.path, name=clean_name(name, filename), filename=full, thumb=thumb,
                       width=encoded.width, height=encoded.height,
                       size=os.path.getsize(os.path.join(folder, full)), created_by_id=actor.id)
    db.session.add(image)
    db.session.flush()
    audit.record(actor, "media.upload", "media", image.id, image.name, scope.path,
                 {"size": f"{image.width}×{image.height}"})
    return image


def rename_image(scope: Scope, image: MediaImage, name: str, *, actor: User) -> None:
    if not can_change(scope, image):
        raise RuleError(_("Only the people of the organization that uploaded this picture may change it."))
    name = " ".join((name or "").split())
    if not name:
        raise RuleError(_("Give the picture a name."), "name")
    if len(name) > 100:
        raise RuleError(_("At most 100 characters."), "name")
    if name != image.name:
        old, image.name = image.name, name
        db.session.flush()
        audit.record(actor, "media.rename", "media", image.id, name, scope.path, {"name": old})


def usage(image: MediaImage) -> list[str]:
    """Where the picture is used (readable places), as the domains that use pictures answer."""
    places: list[str] = []
    for _receiver, answer in usage_asked.send(image):
        places.extend(answer or [])
    return places


def delete_image(scope: Scope, image: MediaImage, *, actor: User) -> None:
    """Delete a picture nothing uses any more (RuleError naming the places that still do)."""
    if not can_change(scope, image):
        raise RuleError(_("Only the people of the organization that uploaded this picture may change it."))
    places = usage(image)
    if places:
        shown = "、".join(places[:3]) + ("…" if len(places) > 3 else "")
        raise RuleError(_("This picture is still used in %(places)s: replace it there first, then delete it.",
                          places=shown))
    names = (image.filename, image.thumb)
    db.session.delete(image)
    db.session.flush()
    audit.record(actor, "media.delete", "media", image.id, image.name, scope.path, {})
    images.remove(media_dir(), *names)


def public_file(filename: str) -> bool:
    """Is ``filename`` a kept picture or thumbnail of the image space (served without login)?"""
    if not images.NAME.match(filename):
        return False
    column = MediaImage.thumb if filename.split(".")[0].endswith("-t") else MediaImage.filename
    return db.session.scalar(select(MediaImage.id).where(column == filename).limit(1)) is not None
