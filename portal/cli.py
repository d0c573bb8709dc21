"""Command-line tools: `flask --app wsgi seed-demo`, `flask --app wsgi create-admin`."""
from __future__ import annotations

import time

import click
from flask import Flask
from sqlalchemy import delete, select, update

from portal.extensions import db


def init_app(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--stores", "n_stores", default=3000, show_default=True, type=click.IntRange(1, 10000),
                  help="How many stores the demo brand has.")
    @click.option("--reset", is_flag=True, help="Delete all existing data first.")
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
    @click.option("--member-stores", default=30, show_default=True, type=click.IntRange(0, 10000),
                  help="How many stores get members, guides and orders (上海区 first; 0: none).")
    def seed_demo_command(n_stores: int, reset: bool, if_empty: bool, member_stores: int):
        """Load a demo brand: 1 HQ, 3 distributors, 12 regions, N stores, one user per role."""
        from portal.campaigns.demo import seed_goods_and_campaign
        from portal.decoration.demo import seed_decoration
        from portal.live.demo import seed_live
        from portal.orders.demo import seed_members_and_orders
        from portal.org import demo
        from portal.org.models import User

        if not demo.is_empty():
            if if_empty:
                click.echo("Database already has data; demo not loaded.")
                return
            if not reset:
                raise click.ClickException("The database already has data. Use --reset to replace it.")
            wipe()
        started = time.perf_counter()
        users = demo.seed_demo(n_stores)
        db.session.flush()
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        seed_decoration(hq)
        seed_goods_and_campaign(hq)
        db.session.commit()
        members = seed_members_and_orders(hq, stores=member_stores) if member_stores else {}
        db.session.commit()
        live = seed_live(hq)
        db.session.commit()
        click.echo(f"Demo brand loaded: {n_stores:,} stores in {time.perf_counter() - started:.1f} s.")
        if members.get("stores"):
            click.echo(f"Members and orders: {members['events']:,} events for {members['stores']} stores "
                       f"({members.get('applied', 0):,} applied) in {time.perf_counter() - started:.1f} s in all.")
        if live.get("rooms"):
            click.echo(f"Live rooms: {live['rooms']:,} in every state, {live['viewers']:,} viewers, "
                       f"{live['orders']:,} orders in the rooms, a drawn lottery.")
        click.echo(f"Sign in at http://127.0.0.1:5000 with password '{demo.DEMO_PASSWORD}':")
        for username, role, place in users:
            click.echo(f"  {username:<10} {role:<18} {place}")

    @app.cli.command("issue-api-key")
    @click.argument("store_code")
    @click.option("--json", "as_json", is_flag=True,
                  help='Print {"store", "key_id", "secret", "read_key"} as one JSON object, for scripts.')
    def issue_api_key_command(store_code: str, as_json: bool):
        """Issue a mini-program API credential for the store STORE_CODE and print it (shown only once).
        The store's previous credentials keep working for API_KEY_OVERLAP_HOURS, then stop."""
        import json

        from sqlalchemy import select

        from portal.api.services import issue_credential
        from portal.org.models import Store

        store = db.session.scalar(select(Store).where(Store.code == store_code))
        if store is None:
            raise click.ClickException(f"No store has the code {store_code!r}.")
        cred = issue_credential(store, actor=None, actor_name="cli")
        db.session.commit()
        if as_json:
            click.echo(json.dumps(cred.as_json(store), ensure_ascii=False))
            return
        click.echo(f"API key for {store.name} ({store.code}); it is not stored and will not be shown again:",
                   err=True)
        click.echo(cred.read_key)
        click.echo(f"Signing key id: {cred.key_id}", err=True)
        click.echo(f"Signing secret: {cred.secret}", err=True)

    @app.cli.command("create-admin")
    @click.option("--username", required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--brand", default="品牌总部", help="Name of the HQ node, created if missing.")
    def create_admin_command(username: str, password: str, brand: str):
        """Create the HQ node (if missing) and an HQ admin: the first account of a new install."""
        from sqlalchemy import select

        from portal.org import roles
        from portal.org.models import OrgNode, User
        from portal.org.services import hash_password

        hq = db.session.scalar(select(OrgNode).where(OrgNode.kind == roles.HQ))
        if hq is None:
            hq = OrgNode(kind=roles.HQ, code="HQ", name=brand, path="", depth=0)
            db.session.add(hq)
            db.session.flush()
            hq.path = f"/{hq.id}/"
        if len(password) < 8:
            raise click.ClickException("The password needs at least 8 characters.")
        db.session.add(User(username=username.lower(), display_name=username, role=roles.HQ_ADMIN,
                            node_id=hq.id, password_hash=hash_password(password)))
        db.session.commit()
        click.echo(f"HQ admin {username} created.")


def wipe() -> None:
    """Delete every row of every domain (``seed-demo --reset``)."""
    from portal.api.models import StoreApiKey
    from portal.assortments.models import Assortment, AssortmentItem, StoreAssortment
    from portal.audit.models import AuditEntry
    from portal.campaigns.models import Campaign, CampaignStore, CouponClaim
    from portal.decoration.models import BlockOverride, StorePage, Template, TemplateVersion
    from portal.goods.models import Product, ProductImage, Sku
    from portal.live.demo import wipe as wipe_live
    from portal.orders.demo import wipe as wipe_members_and_orders
    from portal.org.models import OrgNode, Store, Tag, User, store_tags
    from portal.pushes.models import Delivery, Push
    from portal.shelf.models import Listing, StoreNotice
    from portal.targets.models import Target

    wipe_live()
    wipe_members_and_orders()
    for model in (StoreApiKey, BlockOverride, StorePage, CouponClaim, CampaignStore, Campaign, Listing,
                  StoreNotice, StoreAssortment, AssortmentItem, Assortment, ProductImage, Sku, Product,
                  Delivery, Push, Target, TemplateVersion, Template):
        db.session.execute(delete(model))
    db.session.execute(delete(AuditEntry))
    db.session.execute(delete(User))
    db.session.execute(delete(store_tags))
    db.session.execute(delete(Tag))
    db.session.execute(delete(Store))
    db.session.execute(update(OrgNode).values(parent_id=None))
    db.session.execute(delete(OrgNode))
