"""Live rooms made as the service makes them (rules checked, carrying stores, provider told)."""
from __future__ import annotations

from datetime import timedelta

from portal.extensions import db
from portal.kernel.time import utcnow
from portal.live import services
from portal.org.scope import scope_for


def make_room(user, *, store=None, node=None, title="春季新品直播", start_in=timedelta(hours=1),
              length=timedelta(hours=2), provider="channels", **kw):
    scope = scope_for(user)
    start = utcnow().replace(microsecond=0) + start_in
    room = services.create_room(scope, store=store, node=node, title=title, anchor=kw.pop("anchor", "小美"),
                                provider=provider, start=start, end=start + length, actor=user, **kw)
    db.session.commit()
    return room
