"""The auditable lottery: commit before (the seed's hash shown from the announcement), reveal
after (the seed and the entrant list), the same winners from a re-run, winners fixed once drawn."""
from __future__ import annotations

import csv
import hashlib
import io

from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.live.lottery import verify
from portal.live.models import LiveLottery, LiveLotteryWinner
from tests.live.lottery_helpers import make_room, watch


def _room_with_viewers(org, n=12, **kw):
    room = make_room(org.stores["sh1"])
    members = [watch(room, org.stores["sh1"], nickname=f"观众{i}", **kw) for i in range(n)]
    db.session.commit()
    return room, members


def _announce(client, room, **form):
    data = {"title": "免单大奖", "pool": "viewers", "min_shares": "0", "exclude_staff": "y", "winners": "3"}
    data.update(form)
    return client.post(f"/live/{room.id}/lotteries", data=data, hx="#live-lottery")


def _lottery(room) -> LiveLottery:
    return db.session.scalar(select(LiveLottery).where(LiveLottery.room_id == room.id).order_by(LiveLottery.id.desc()))


def _winners(lot) -> list[int]:
    return list(db.session.scalars(select(LiveLotteryWinner.member_id).where(LiveLotteryWinner.lottery_id == lot.id)
                                   .order_by(LiveLotteryWinner.rank)))


def test_hash_shown_before_the_draw_and_a_rerun_from_the_revealed_seed_gives_the_same_winners(login_as, org):
    room, _members = _room_with_viewers(org)
    client = login_as("owner1")
    response = _announce(client, room)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="live-lottery"' in html
    lot = _lottery(room)
    shown_hash = lot.seed_hash
    assert shown_hash in html and lot.seed not in html          # committed to, not revealed
    page = client.get(f"/live/lotteries/{lot.id}").get_data(as_text=True)
    assert shown_hash in page and lot.seed not in page

    drawn = client.post(f"/live/lotteries/{lot.id}/draw", hx="#live-lottery")
    assert drawn.status_code == 200
    body = drawn.get_data(as_text=True)
    assert "3 winners among 12 entrants" in body or "12" in body
    lot = _lottery(room)
    assert lot.seed in body                                        # revealed after the draw
    assert hashlib.sha256(lot.seed.encode()).hexdigest() == shown_hash

    listed = client.get(f"/live/lotteries/{lot.id}/entrants.json").get_json()
    assert listed["seed"] == lot.seed and len(listed["entrants"]) == 12
    rerun = verify(listed["seed"], [e["member_id"] for e in listed["entrants"]], 3)
    assert rerun == _winners(lot)
    for member_id in rerun:
        assert f'data-winner="{member_id}"' in body

    rows = list(csv.DictReader(io.StringIO(client.get(f"/live/lotteries/{lot.id}/entrants.csv")
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert verify(lot.seed, [int(r["member_id"]) for r in rows], 3) == rerun
    assert all(r["label"].endswith("**") for r in rows)            # masked, not the nickname
    assert "观众1" not in client.get(f"/live/lotteries/{lot.id}/entrants.csv").get_data(as_text=True)


def test_staff_are_excluded_when_asked(login_as, org):
    room, members = _room_with_viewers(org, n=3)
    staff = watch(room, org.stores["sh1"], staff=True, nickname="店员")
    db.session.commit()
    client = login_as("owner1")
    _announce(client, room, winners="10")
    lot = _lottery(room)
    client.post(f"/live/lotteries/{lot.id}/draw")
    assert set(_winners(lot)) == {m.id for m in members}
    assert staff.id not in {e["member_id"] for e in client.get(f"/live/lotteries/{lot.id}/entrants.json")
                            .get_json()["entrants"]}

    _announce(client, room, winners="10", exclude_staff="")       # unchecked: staff may win
    lot = _lottery(room)
    client.post(f"/live/lotteries/{lot.id}/draw")
    assert staff.id in _winners(lot)


def test_sharers_need_at_least_n_shares(login_as, org):
    room = make_room(org.stores["sh1"])
    sh1 = org.stores["sh1"]
    none, one, two, five = (watch(room, sh1, shares=n) for n in (0, 1, 2, 5))
    commenter = watch(room, sh1, comments=3)
    db.session.commit()
    client = login_as("owner1")
    _announce(client, room, pool="sharers", min_shares="2", winners="10")
    lot = _lottery(room)
    client.post(f"/live/lotteries/{lot.id}/draw")
    assert set(_winners(lot)) == {two.id, five.id}

    _announce(client, room, pool="sharers", min_shares="0", winners="10")    # sharers: at least one share
    lot = _lottery(room)
    client.post(f"/live/lotteries/{lot.id}/draw")
    assert set(_winners(lot)) == {one.id, two.id, five.id}

    _announce(client, room, pool="commenters", winners="10")
    lot = _lottery(room)
    client.post(f"/live/lotteries/{lot.id}/draw")
    assert _winners(lot) == [commenter.id]
    assert none.id not in _winners(lot)


def test_a_second_draw_is_refused_and_the_winners_stay(login_as, org):
    room, _members = _room_with_viewers(org)
    client = login_as("owner1")
    _announce(client, room, winners="2")
    lot = _lottery(room)
    assert client.post(f"/live/lotteries/{lot.id}/draw", hx="#live-lottery").status_code == 200
    first = _winners(lot)
    watch(room, org.stores["sh1"])                                  # someone arrives after the draw
    db.session.commit()
    again = client.post(f"/live/lotteries/{lot.id}/draw", hx="#live-lottery")
    assert again.status_code == 409
    assert "drawn already" in again.get_data(as_text=True) or "已开奖" in again.get_data(as_text=True)
    assert _winners(_lottery(room)) == first
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "live_lottery.draw")))
    assert len(entries) == 1
    details = entries[0].details
    assert details["seed"] == _lottery(room).seed and details["entrants"] == 12
    assert [w["member_id"] for w in details["winners"]] == first


def test_bad_rules_are_refused_beside_the_field(login_as, org):
    room, _members = _room_with_viewers(org, n=1)
    client = login_as("owner1")
    response = _announce(client, room, winners="0", title="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-field="winners"' in html and 'data-field="title"' in html
    assert _lottery(room) is None


def test_no_entrant_leaves_the_lottery_announced(login_as, org):
    room = make_room(org.stores["sh1"])
    db.session.commit()
    client = login_as("owner1")
    _announce(client, room)
    lot = _lottery(room)
    response = client.post(f"/live/lotteries/{lot.id}/draw", hx="#live-lottery")
    assert response.status_code == 422
    assert _lottery(room).status == "announced"


def test_the_page_without_htmx_and_the_other_store(login_as, org):
    room, _members = _room_with_viewers(org, n=2)
    client = login_as("owner1")
    response = client.post(f"/live/{room.id}/lotteries", data={"title": "奖", "pool": "viewers",
                                                                      "min_shares": "0", "winners": "1"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and _lottery(room).seed_hash in page
    other = login_as("owner_gd")
    assert other.get(f"/live/lotteries/{_lottery(room).id}").status_code == 404
    assert other.post(f"/live/lotteries/{_lottery(room).id}/draw").status_code == 404


def test_two_draws_at_once_give_one_set_of_winners(app, login_as, org):
    """A second manager's draw lands between the first draw's read and its write: one wins, the
    other is told (409) and writes nothing."""
    from tests.conftest import login
    from tests.factories import just_before

    room, _members = _room_with_viewers(org, n=5)
    owner = login_as("owner1")
    _announce(owner, room, winners="2")
    lot = _lottery(room)
    other = app.test_client()
    login(other, org.users["sh_manager"].username)
    with just_before("UPDATE live_lotteries", lambda: other.post(f"/live/lotteries/{lot.id}/draw").status_code) as ran:
        late = owner.post(f"/live/lotteries/{lot.id}/draw", hx="#live-lottery")
    assert ran == [303]
    assert late.status_code == 409
    db.session.expire_all()
    assert len(_winners(_lottery(room))) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "live_lottery.draw")) == 1
