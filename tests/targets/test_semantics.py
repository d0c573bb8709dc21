"""Kinds combine with AND, values of one kind with OR; the preview shows the breakdown and
what a push will really deliver to."""
import re

from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.pushes.models import Push
from portal.targets import services
from portal.targets.services import TargetSpec
from tests import factories


def _reach(html: str) -> int:
    m = re.search(r'data-reach="(\d+)"', html)
    return int(m.group(1)) if m else -1


def _part(html: str, name: str) -> int:
    m = re.search(rf'data-part="{name}" data-part-count="(\d+)"', html)
    return int(m.group(1)) if m else -1


def _brand(org):
    """east: SH001 (旗舰店), SH002, JS001 + 3 直营 in 上海, 2 直营 in 江苏, one closed 直营 in 江苏;
    south: GD001 (商场店), SO001 + 4 直营 in 广东."""
    for i in range(3):
        factories.make_store(org.nodes["r_sh"], f"SHD{i}", tags=["直营"])
    for i in range(2):
        factories.make_store(org.nodes["r_js"], f"JSD{i}", tags=["直营"])
    factories.make_store(org.nodes["r_js"], "JSC0", tags=["直营"], status="closed")
    for i in range(4):
        factories.make_store(org.nodes["r_gd"], f"GDD{i}", tags=["直营"])


def test_kinds_and_values_combine_with_and_across_or_within(app, db, org):
    _brand(org)
    db.session.commit()
    hq = scope_for(org.users["hq"])
    east, south, r_sh, r_js = (org.nodes[k].id for k in ("east", "south", "r_sh", "r_js"))
    assert services.count(hq, TargetSpec(node_ids=[east])) == 8
    assert services.count(hq, TargetSpec(tags=["直营"])) == 9
    # 华东 + 直营: the 5 stores that are both, not the 12 that are either.
    assert services.count(hq, TargetSpec(node_ids=[east], tags=["直营"])) == 5
    assert services.count(hq, TargetSpec(node_ids=[r_sh, r_js], tags=["直营"])) == 5          # OR within regions
    assert services.count(hq, TargetSpec(node_ids=[r_sh], tags=["直营", "旗舰店"])) == 4       # OR within tags
    assert services.count(hq, TargetSpec(node_ids=[east, south], tags=["直营"], exclude_codes=["GDD0"])) == 8
    assert services.count(hq, TargetSpec(node_ids=[east], store_codes=["GDD1", "SHD1"])) == 1  # AND codes
    # The push delivers exactly what the count said.
    hq_user = org.users["hq"]
    _t, v1 = factories.make_template_version(hq_user)
    db.session.commit()
    push = pushes.create_push(hq, "template", v1.id, "v1", TargetSpec(node_ids=[east], tags=["直营"]), actor=hq_user)
    db.session.commit()
    push = db.session.get(Push, push.id)
    assert push.delivered == 5 and push.skipped == 1          # the closed 直营 store of 江苏


def test_preview_shows_the_breakdown_and_the_closed_note(client, login_as, org, db):
    _brand(org)
    db.session.commit()
    login_as("hq")
    east = org.nodes["east"].id
    body = client.get(f"/targets/preview?node_ids={east}&tags=直营&active_only=y", hx="reach").get_data(as_text=True)
    assert _reach(body) == 5
    assert _part(body, "node_ids") == 8 and _part(body, "tags") == 9 and "华东经销商" in body
    assert 'data-closed="1"' in body  # JSC0 is named but not counted
    body = client.get(f"/targets/preview?node_ids={east}&tags=直营&exclude_codes=SHD0", hx="reach").get_data(
        as_text=True
    )
    assert _reach(body) == 4 and _part(body, "excluded") == 1
    # A suspended store counts only when suspended stores are asked for.
    factories.make_store(org.nodes["r_sh"], "SHS0", tags=["直营"], status="suspended")
    db.session.commit()
    body = client.get(f"/targets/preview?node_ids={east}&tags=直营&active_only=y", hx="reach").get_data(as_text=True)
    assert _reach(body) == 5 and 'data-suspended="1"' in body
    body = client.get(f"/targets/preview?node_ids={east}&tags=直营", hx="reach").get_data(as_text=True)
    assert _reach(body) == 6 and "data-suspended" not in body and 'data-closed="1"' in body


def test_every_field_of_the_target_form_updates_the_preview(client, login_as, org, db):
    login_as("hq")
    _t, version = factories.make_template_version(org.users["hq"])
    db.session.commit()
    for url in ("/targets/new", f"/templates/{version.template_id}/versions/{version.number}/push"):
        html = client.get(url).get_data(as_text=True)
        (trigger,) = re.findall(r'class="target-fields"[^>]*hx-trigger="([^"]+)"', html)
        triggers = [t.strip() for t in trigger.split(",")]
        # Checkboxes and selects (change) and text areas and inputs (input, as you type), anywhere
        # in the form, each after a short delay.
        assert any(t.startswith("change delay:") and t.endswith("from:closest form") for t in triggers), trigger
        assert any(t.startswith("input changed delay:") and t.endswith("from:closest form") for t in triggers), trigger
        form = html[html.index('class="target-fields"'):]
        form = html[:html.index('class="target-fields"')].rsplit("<form", 1)[1] + form.split("</form>", 1)[0]
        for name in ("everything", "node_ids", "tags", "store_codes", "exclude_codes", "active_only"):
            assert f'name="{name}"' in form, (url, name)
