"""Security headers on every kind of response, and templates the Content-Security-Policy can hold
to: no inline script, no inline event handler, no style attribute."""
from __future__ import annotations

import pathlib
import re

import pytest

from portal.api.services import issue_key
from portal.goods import services as catalog
from portal.org.scope import scope_for
from portal.pushes import services as pushes
from portal.targets.services import TargetSpec
from tests import factories

TEMPLATES = pathlib.Path(__file__).resolve().parent.parent / "templates"

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]*\s(?:on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)
JS_URL = re.compile(r"javascript:", re.I)


def directives(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {d.split()[0]: " ".join(d.split()[1:]) for d in policy.split(";") if d.strip()}


def assert_secure_headers(response) -> None:
    csp = directives(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_a_signed_in_page_has_the_headers_and_is_not_stored(login_as):
    r = login_as("hq").get("/stores")
    assert r.status_code == 200
    assert_secure_headers(r)
    assert r.cache_control.no_store


def test_an_htmx_fragment_has_the_headers_and_is_not_stored(login_as):
    r = login_as("hq").get("/stores?q=SH", hx="store-rows")
    assert r.status_code == 200 and "<html" not in r.get_data(as_text=True)
    assert_secure_headers(r)
    assert r.cache_control.no_store


def test_the_login_page_has_the_headers(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert_secure_headers(r)


def test_an_api_json_response_has_the_headers(client, org, db):
    _row, plain = issue_key(org.stores["sh1"], actor=None)
    db.session.commit()
    r = client.get("/api/v1/stores/SH001/page", headers={"Authorization": f"Bearer {plain}"})
    assert r.status_code == 200 and r.is_json
    assert_secure_headers(r)
    r = client.get("/api/v1/stores/SH001/page")
    assert r.status_code == 401 and r.is_json
    assert_secure_headers(r)


def test_error_pages_have_the_headers(client, login_as):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert_secure_headers(r)
    r = login_as("owner1").get("/stores")
    assert r.status_code == 403
    assert_secure_headers(r)
    assert r.cache_control.no_store
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.cache_control.no_store


def test_a_static_file_has_the_headers_and_stays_cacheable(login_as):
    r = login_as("hq").get("/static/js/portal.js")
    assert r.status_code == 200
    assert_secure_headers(r)
    assert not r.cache_control.no_store
    r.close()


def test_a_login_gated_goods_picture_is_cached_privately_only(login_as, org, db):
    hq = org.users["hq"]
    product = factories.make_product(org.nodes["hq"], "HQ-PIC")
    image = catalog.add_image(scope_for(hq), product, factories.png_bytes(), actor=hq)
    db.session.commit()
    r = login_as("owner1").get(f"/goods/{product.id}/images/{image.id}")
    assert r.status_code == 200 and r.mimetype.startswith("image/")
    assert r.cache_control.private and not r.cache_control.public
    assert r.cache_control.max_age
    assert_secure_headers(r)
    r.close()


# --------------------------------------------------------------------------- no inline script

def _template_files():
    return sorted(p for p in TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("pattern", [INLINE_SCRIPT, INLINE_HANDLER, STYLE_ATTRIBUTE, STYLE_ELEMENT, JS_URL],
                         ids=["inline script", "inline handler", "style attribute", "style element", "javascript: url"])
def test_no_template_has_inline_script_handlers_or_styles(pattern):
    found = [f"{p.relative_to(TEMPLATES)}:{n}: {line.strip()}"
             for p in _template_files()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert found == []


def _busy_world(org, db):
    """Enough data that the pages show their rows, pictures, bars and progress."""
    hq = org.users["hq"]
    template, version = factories.make_template_version(hq)
    product = factories.make_product(org.nodes["hq"], "HQ-ROW")
    catalog.add_image(scope_for(hq), product, factories.png_bytes(), actor=hq)
    db.session.commit()
    push = pushes.create_push(scope_for(hq), "template", version.id, "v1",
                              TargetSpec(node_ids=[org.nodes["r_sh"].id]), actor=hq)
    db.session.commit()
    return template, product, push


def test_rendered_pages_hold_to_the_policy(login_as, org, db):
    """What the browser gets, not only the template source: no inline script or style anywhere."""
    template, product, push = _busy_world(org, db)
    pages = {"hq": ["/", "/stores", "/org", "/users", "/goods", f"/goods/{product.id}", "/templates",
                    f"/templates/{template.id}", "/pushes", f"/pushes/{push.id}", f"/pushes/{push.id}/progress",
                    "/targets", "/campaigns", "/audit", "/assortments"],
             "owner1": ["/", "/my/page", "/my/goods", "/my/campaigns"]}
    for who, urls in pages.items():
        client = login_as(who)
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, (who, url, r.status_code)
            html = r.get_data(as_text=True)
            for pattern in (INLINE_SCRIPT, INLINE_HANDLER, STYLE_ATTRIBUTE, STYLE_ELEMENT, JS_URL):
                assert not pattern.search(html), (who, url, pattern.search(html).group(0))


def test_the_push_progress_bar_width_is_a_class(login_as, org, db):
    _template, _product, push = _busy_world(org, db)
    html = login_as("hq").get(f"/pushes/{push.id}/progress", hx=True).get_data(as_text=True)
    assert re.search(r'class="progress-bar[^"]*\bpct-w-100\b', html)


def test_htmx_is_told_not_to_inject_its_indicator_style(client):
    html = client.get("/login").get_data(as_text=True)
    assert '"includeIndicatorStyles":false' in html
    css = (TEMPLATES.parent / "static" / "css" / "portal.css").read_text()
    assert ".htmx-indicator" in css
