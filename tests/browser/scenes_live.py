"""Screenshots of the live rooms of issue 11 (see tests/browser/screenshots.py), on the demo's
rooms as ``flask seed-demo`` builds them (members and orders of 上海区 first, then the rooms):

desktop (hq, 1366×768): the room list, the HQ broadcast's page (its figures with the per-store
breakdown of the carrying stores, the share leaderboard), and the owner's ended room with its
drawn lottery.

phone (the owner, 390×844): the store's rooms, a new room's form with its goods to tick, the
room that is live (online now, the leaderboard polling) and the one that ended (figures,
leaderboard, the lottery's winners and revealed seed, the post-live coupon panel).
"""
from __future__ import annotations

_ROOMS: dict[str, int] = {}


def _seed() -> dict[str, int]:
    """Members, orders and the demo's live rooms, once; their ids by role."""
    if _ROOMS:
        return _ROOMS
    from sqlalchemy import select

    from portal.extensions import db
    from portal.live.demo import BROADCAST_TITLE, seed_live
    from portal.live.models import ENDED, LIVE, LiveRoom
    from portal.orders.demo import seed_members_and_orders
    from portal.org.models import User
    from tests.browser import screenshots

    with screenshots.APP.app_context():
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        owner = db.session.scalar(select(User).where(User.username == "owner"))
        seed_members_and_orders(hq, stores=12)
        db.session.commit()
        seed_live(hq)
        db.session.commit()
        mine = select(LiveRoom.id).where(LiveRoom.store_id == owner.store_id)
        _ROOMS.update(
            broadcast=db.session.scalar(select(LiveRoom.id).where(LiveRoom.title == BROADCAST_TITLE)),
            ended=db.session.scalar(mine.where(LiveRoom.status == ENDED).order_by(LiveRoom.id)),
            live=db.session.scalar(mine.where(LiveRoom.status == LIVE).order_by(LiveRoom.id)))
        db.session.remove()
    return _ROOMS


def _rooms(page, shot, names: dict[str, str]) -> None:
    """Each room page (``{screenshot name: room role}``) with its leaderboard and its lazy panels
    (lottery, coupons, reminders) in."""
    rooms = _seed()
    for name, role in names.items():
        page.goto(f"/live/{rooms[role]}")
        page.wait_for_selector(".live-leaderboard")
        page.wait_for_selector("[data-lazy-panel] .spinner-border", state="detached")
        shot(page, name, full_page=True)


def desktop(page, shot) -> None:
    _seed()
    page.goto("/live")
    shot(page, "live-rooms")
    _rooms(page, shot, {"live-broadcast": "broadcast", "live-ended": "ended"})


def phone(page, shot) -> None:
    _seed()
    page.goto("/live")
    shot(page, "live-phone-rooms", full_page=True)
    page.goto("/live/new")
    shot(page, "live-phone-new", full_page=True)
    _rooms(page, shot, {"live-phone-live": "live", "live-phone-ended": "ended"})
