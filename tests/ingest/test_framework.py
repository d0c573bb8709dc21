"""FRAMEWORK TESTS of the ingestion service, through the real signed endpoint, with the test event
types of tests/ingest/handlers.py: held events and their release, a held event that fails when
released, per-event isolation after a constraint breaks, concurrent requests with one new id, the
purge."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.ingest import services
from portal.ingest.models import InboxEvent
from portal.kernel.time import utcnow
from portal.members.models import Guide
from tests import factories
from tests.api.signing import credential, event, signed_post


def _post(client, cred, events, code="SH001"):
    r = signed_post(client, code, cred.key_id, cred.secret, {"events": events})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    return [(x["status"], x["error"] and x["error"]["code"]) for x in r.get_json()["results"]]


def _guides():
    db.session.expire_all()
    return dict(db.session.execute(select(Guide.code, Guide.name)).all())


def _inbox():
    return {r.event_id: (r.status, r.waiting_for) for r in db.session.execute(
        select(InboxEvent.event_id, InboxEvent.status, InboxEvent.waiting_for))}


def add(n, code=None, name=None):
    return event(f"add{n}", "test.guide", {"code": code or f"G{n}", "name": name or f"导购{n}"})


def rename(n, code, name, at="2026-03-02T10:15:00+08:00"):
    return event(f"ren{n}", "test.rename", {"code": code, "name": name}, occurred_at=at)


def test_an_event_before_what_it_needs_is_held_then_applied_when_it_arrives(client, org):
    cred = credential(org.stores["sh1"])
    # Two renames of a guide the store does not have yet, the later one sent first.
    assert _post(client, cred, [rename(2, "G1", "二号", at="2026-03-02T11:00:00+08:00"),
                                rename(1, "G1", "一号", at="2026-03-02T10:00:00+08:00")]) == \
        [("held", None), ("held", None)]
    assert _inbox() == {"ren1": ("held", "guide:G1"), "ren2": ("held", "guide:G1")}
    assert _guides() == {}
    # A held event sent again is a duplicate, not held twice.
    assert _post(client, cred, [rename(1, "G1", "一号", at="2026-03-02T10:00:00+08:00")]) == [("duplicate", None)]
    # The guide arrives: both are applied, in the order they occurred (the later name wins).
    assert _post(client, cred, [add(1)]) == [("applied", None)]
    assert _guides() == {"G1": "二号"}
    assert {k: v[0] for k, v in _inbox().items()} == {"add1": "applied", "ren1": "applied", "ren2": "applied"}
    assert db.session.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.data.is_not(None))) == 0


def test_held_events_of_another_store_are_not_released(client, org):
    sh, gd = credential(org.stores["sh1"]), credential(org.stores["gd1"])
    assert _post(client, gd, [rename(1, "G1", "一号")], code="GD001") == [("held", None)]
    assert _post(client, sh, [add(1)]) == [("applied", None)]
    assert _inbox()["ren1"] == ("held", "guide:G1")


def test_a_held_event_that_fails_when_released_is_recorded(client, org):
    store = org.stores["sh1"]
    cred = credential(store)
    assert _post(client, cred, [rename(1, "G1", "no")]) == [("held", None)]
    assert _post(client, cred, [add(1)]) == [("applied", None)]
    assert _guides() == {"G1": "导购1"}                       # the rename did not happen
    failed = services.failed_after_hold(store)
    assert [(f["id"], f["type"], f["data"], f["error"]["code"]) for f in failed] == \
        [("ren1", "test.rename", {"code": "G1", "name": "no"}, "test_refused")]
    # It is settled: sent again, it is a duplicate, not applied and not held again.
    assert _post(client, cred, [rename(1, "G1", "no")]) == [("duplicate", None)]


def test_a_broken_constraint_rejects_only_its_event(client, org):
    cred = credential(org.stores["sh1"])
    _post(client, cred, [add(1)])
    # add2 re-uses guide code G1 (the store's unique key): only it is rejected, the batch stands.
    assert _post(client, cred, [add(3), add(2, code="G1"), add(4)]) == \
        [("applied", None), ("rejected", "conflict"), ("applied", None)]
    assert _guides() == {"G1": "导购1", "G3": "导购3", "G4": "导购4"}
    assert "add2" not in _inbox()
    # Two events of one batch on the same new key: the first is applied, the second isolated.
    assert _post(client, cred, [add(5, code="G5"), add(6, code="G5")]) == [("applied", None), ("rejected", "conflict")]


def test_a_new_id_claimed_by_another_request_meanwhile_is_applied_once(app, client, org):
    cred = credential(org.stores["sh1"])
    other = app.test_client()
    answers = []

    def the_other_request():
        answers.append(_post(other, cred, [add(1)]))

    # The other request lands between this one's checks and its claim of the id.
    with factories.just_before("INSERT INTO inbox_events", the_other_request):
        mine = _post(client, cred, [add(1)])
    assert answers == [[("applied", None)]] and mine == [("duplicate", None)]
    assert _guides() == {"G1": "导购1"}


def test_two_requests_with_one_new_id_at_once_apply_it_once(app, org):
    cred = credential(org.stores["sh1"])
    barrier = threading.Barrier(2)
    answers, errors = [], []

    def send():
        try:
            c = app.test_client()
            barrier.wait(5)
            answers.append(_post(c, cred, [add(1), add(2)]))
        except Exception as exc:          # noqa: BLE001 (shown below)
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(answers) == [[("applied", None), ("applied", None)], [("duplicate", None), ("duplicate", None)]]
    assert _guides() == {"G1": "导购1", "G2": "导购2"}


def test_two_requests_with_the_same_new_ids_in_opposite_orders_neither_deadlocks(app, org):
    """Each round, two requests carry the same 300 new ids, one in the opposite order: claimed in
    one order (by id), they queue on the first shared key instead of deadlocking."""
    cred = credential(org.stores["sh1"])
    errors = []
    for round_ in range(4):
        barrier = threading.Barrier(2)
        answers = {}

        def send(name, batch, barrier=barrier, answers=answers):
            try:
                c = app.test_client()
                barrier.wait(5)
                answers[name] = _post(c, cred, batch)
            except Exception as exc:          # noqa: BLE001 (shown below)
                errors.append(exc)

        ids = [f"R{round_}-{n:03d}" for n in range(300)]
        batch = [event(i, "test.guide", {"code": i, "name": "导购"}) for i in ids]
        threads = [threading.Thread(target=send, args=("up", batch)),
                   threading.Thread(target=send, args=("down", batch[::-1]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        applied = [s for one in answers.values() for s, _e in one if s == "applied"]
        assert len(applied) == 300                        # each once, by one request or the other
    assert len(_guides()) == 1200


def test_the_purge_forgets_old_applied_events_and_keeps_held_ones(app, client, org):
    cred = credential(org.stores["sh1"])
    _post(client, cred, [add(1), rename(1, "G9", "九号")])
    _post(client, cred, [add(2)])
    old = utcnow() - timedelta(days=31)
    db.session.execute(InboxEvent.__table__.update().where(InboxEvent.event_id.in_(["add1", "ren1"]))
                       .values(received_at=old))
    db.session.commit()
    from portal.ingest.tasks import purge_inbox
    assert purge_inbox() == 1
    assert set(_inbox()) == {"ren1", "add2"}                  # the held one stays, however old
    # Never less than 7 days, whatever the setting.
    app.config["INBOX_KEEP_DAYS"] = 1
    assert services.keep_days() == 7
    db.session.execute(InboxEvent.__table__.update().where(InboxEvent.event_id == "add2")
                       .values(received_at=utcnow() - timedelta(days=6)))
    db.session.commit()
    assert purge_inbox() == 0
    from portal.jobs import PERIODIC
    assert PERIODIC["purge-inbox"] == ("portal.ingest.tasks.purge_inbox", "INBOX_PURGE_SECONDS")
