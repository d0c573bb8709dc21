"""What the stores' mini-programs report back: the event inbox and the handlers' registry.

The API layer (``portal/api/events.py``) authenticates and parses a batch; ``services.ingest``
remembers each event by (store, event id) for idempotency, validates it against its type's
schema and hands it to the handler the owning domain registered (``registry.handler``):
``portal.members.events`` for ``member.*``, ``portal.orders.events`` for ``order.*`` and
``coupon.*``, and (next) ``portal.live.events`` for ``live.*``. An event whose prerequisite has not
arrived yet (a refund before its order) is *held* with the key it waits for and applied when a
handler ``release``s that key.

It sits low in the layers (above org, below the domains that register handlers), so every domain
may register and release without importing the API.
"""
