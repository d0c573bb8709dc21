"""Screenshots of the ingestion part of issue 10 (see tests/browser/screenshots.py): the store
page's API key card with its key id, rotating the key (the styled confirmation names the overlap
window), the new keys shown once, and the card afterwards with the old key's stop time."""
from __future__ import annotations


def _store_id() -> int:
    """The first open store, with a credential issued through the services (as the CLI does)."""
    from sqlalchemy import select

    from portal.api.services import issue_credential
    from portal.extensions import db
    from portal.org.models import Store
    from tests.browser import screenshots

    with screenshots.APP.app_context():
        store = db.session.scalar(select(Store).where(Store.status == "active").order_by(Store.code))
        issue_credential(store, actor=None, actor_name="cli")
        db.session.commit()
        store_id = store.id
        db.session.remove()
    return store_id


def _refused_after_waiting(store_id: int) -> None:
    """Two refunds held for orders that have not arrived; the orders come and they are refused."""
    from portal.extensions import db
    from portal.ingest.services import ingest
    from portal.org.models import Store
    from tests.browser import screenshots
    from tests.orders.helpers import paid, refund

    with screenshots.APP.app_context():
        store = db.session.get(Store, store_id)
        ingest(store, [refund("RF-DEMO-1", "NO-DEMO-1", amount=99_900),
                       refund("RF-DEMO-2", "NO-DEMO-2", amount=56_000)])
        ingest(store, [paid("NO-DEMO-1", [("G001-M", 1, 1800)]), paid("NO-DEMO-2", [("G002-M", 2, 1900)])])
        db.session.commit()
        db.session.remove()


def desktop(page, shot) -> None:
    store_id = _store_id()
    page.goto(f"/stores/{store_id}")
    page.locator("#api-keys").scroll_into_view_if_needed()
    shot(page, "ingest-keys-card")

    page.click("#api-keys button[data-confirm]:not(.btn-outline-danger)")
    page.wait_for_selector("#confirm-dialog [data-confirm-accept]:focus")
    page.wait_for_timeout(200)
    shot(page, "ingest-keys-rotate-confirm")
    page.click("#confirm-dialog [data-confirm-accept]")
    page.wait_for_selector("#key-secret")
    shot(page, "ingest-keys-created", full_page=True)

    page.goto(f"/stores/{store_id}")
    page.locator("#api-keys").scroll_into_view_if_needed()
    shot(page, "ingest-keys-rotated")

    _refused_after_waiting(store_id)
    page.goto(f"/stores/{store_id}")
    page.locator("#failed-events").scroll_into_view_if_needed()
    shot(page, "ingest-refused-after-waiting")
