"""prices: campaign money in fen, store notices stored as message codes with parameters

Revision ID: 0005_prices
Revises: 0004_security
Create Date: 2026-12-01 20:20:00

Data: the money in campaign rules moves from yuan strings ("9.90" under ``price``) to integer fen
(990 under ``price_fen``), as the catalog stores it; downgrade turns them back. Store notices
gain ``code`` + ``params`` (translated when shown); rows written before keep their ``message``.
"""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005_prices'
down_revision = '0004_security'
branch_labels = None
depends_on = None

# The money fields of each kind's rules (frozen here: the migration must not follow later code).
MONEY_KEYS = {"coupon": ("amount", "threshold"), "flash_sale": ("price",), "bargain": ("floor_price",),
              "group_buy": ("price",)}

campaigns = sa.table("campaigns", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                     sa.column("rules", sa.JSON))
notices = sa.table("store_notices", sa.column("id", sa.Integer), sa.column("code", sa.String),
                   sa.column("params", sa.JSON), sa.column("message", sa.String))


def _fen(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "").lstrip("¥￥"))
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


def _yuan(fen):
    return None if fen is None else f"{Decimal(int(fen)) / 100:.2f}"


def _convert_rules(convert) -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(campaigns.c.id, campaigns.c.kind, campaigns.c.rules)).all():
        keys = MONEY_KEYS.get(row.kind)
        if not keys or not isinstance(row.rules, dict):
            continue
        rules = convert(dict(row.rules), keys)
        if rules != row.rules:
            conn.execute(campaigns.update().where(campaigns.c.id == row.id).values(rules=rules))


def _to_fen(rules, keys):
    for key in keys:
        if key in rules:
            rules[f"{key}_fen"] = _fen(rules.pop(key))
    return rules


def _to_yuan(rules, keys):
    for key in keys:
        if f"{key}_fen" in rules:
            rules[key] = _yuan(rules.pop(f"{key}_fen"))
    return rules


def upgrade():
    _convert_rules(_to_fen)
    with op.batch_alter_table('store_notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('params', sa.JSON(), nullable=True))
        batch_op.alter_column('message', existing_type=sa.String(length=500), nullable=True)


# Downgrade writes the text of coded notices into ``message`` (in Chinese, the default locale).
_ZH = {
    "price_followed": "总部已将 {product} 的价格从 {old_price} 调整为 {price}：您的门店跟随总部价，现按 {price} 销售。",
    "price_raised": "总部已将 {product} 的价格范围调整为 {floor}–{ceiling}：您的价格低于该范围，已调整为 {floor}。",
    "price_lowered": "总部已将 {product} 的价格范围调整为 {floor}–{ceiling}：您的价格高于该范围，已调整为 {ceiling}。",
}


def _zh_text(code, params):
    values = {}
    for key, value in (params or {}).items():
        values[key] = value
        if key.endswith("_fen"):
            values[key[:-4]] = "—" if value is None else f"¥{Decimal(int(value)) / 100:,.2f}"
    try:
        return _ZH[code].format(**values)[:500]
    except (KeyError, ValueError):
        return code


def downgrade():
    conn = op.get_bind()
    for row in conn.execute(sa.select(notices.c.id, notices.c.code, notices.c.params)
                            .where(notices.c.message.is_(None))).all():
        conn.execute(notices.update().where(notices.c.id == row.id)
                     .values(message=_zh_text(row.code, row.params) if row.code else ""))
    with op.batch_alter_table('store_notices', schema=None) as batch_op:
        batch_op.alter_column('message', existing_type=sa.String(length=500), nullable=False)
        batch_op.drop_column('params')
        batch_op.drop_column('code')
    _convert_rules(_to_yuan)
