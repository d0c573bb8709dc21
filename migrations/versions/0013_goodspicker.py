"""goodspicker: a flash sale's SKUs each carry their own sale price and quantity

Revision ID: 0013_goodspicker
Revises: 0012_preview
Create Date: 2026-12-02 03:40:00

Data only: flash-sale rules move from one price and quantity for a list of SKU codes
(``{"skus": [...], "price_fen": 990, "quantity": 100}``) to one row per SKU
(``{"items": [{"sku": ..., "price_fen": 990, "quantity": 100}, ...]}``), every row taking the old
price and quantity. Downgrade goes back to one price (the lowest: it stays below every SKU's list
price) and one quantity (the sum).
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_goodspicker'
down_revision = '0012_preview'
branch_labels = None
depends_on = None

campaigns = sa.table("campaigns", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                     sa.column("rules", sa.JSON))


def _convert(convert) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(campaigns.c.id, campaigns.c.rules).where(campaigns.c.kind == "flash_sale")).all()
    for row in rows:
        if not isinstance(row.rules, dict):
            continue
        rules = convert(dict(row.rules))
        if rules != row.rules:
            conn.execute(campaigns.update().where(campaigns.c.id == row.id).values(rules=rules))


def _to_items(rules: dict) -> dict:
    if "items" in rules or "skus" not in rules:
        return rules
    skus = rules.pop("skus") or []
    price, quantity = rules.pop("price_fen", None), rules.pop("quantity", None)
    rules["items"] = [{"sku": code, "price_fen": price, "quantity": quantity} for code in skus]
    return rules


def _to_skus(rules: dict) -> dict:
    if "items" not in rules:
        return rules
    items = [i for i in rules.pop("items") or [] if isinstance(i, dict)]
    prices = [i["price_fen"] for i in items if i.get("price_fen") is not None]
    quantities = [i["quantity"] for i in items if i.get("quantity") is not None]
    rules["skus"] = [i.get("sku") for i in items]
    rules["price_fen"] = min(prices) if prices else None
    rules["quantity"] = sum(quantities) if quantities else None
    return rules


def upgrade():
    _convert(_to_items)


def downgrade():
    _convert(_to_skus)
