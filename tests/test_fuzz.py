"""Random bodies to every route, as every user: no response is ever a 500.

Driven by the app's url_map, so a new route is covered without touching this file: every rule
that takes POST gets random form bodies (and, under /api/, random JSON), every rule that takes
GET gets random query strings. URL arguments are ids of real rows of the test organisation (and
now and then one out of range); field names are those of the app's own forms (with their
prefixes) mixed with random ones; values are random text with control and unicode characters,
huge and negative numbers, NaN and friends, repeated keys and missing fields.

Hypothesis runs derandomized (the same examples on every run, as CI needs), with a bounded
number of examples per user so the whole file stays well under a minute on SQLite.
"""
from __future__ import annotations

import io
import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields.core import UnboundField

from portal.extensions import db
from tests.conftest import login
from tests.test_access import ALL, _ids

# Per route, method and user: ~3,000 requests in all. FUZZ_EXAMPLES=100 explores deeper locally.
EXAMPLES_PER_ROUTE = int(os.environ.get("FUZZ_EXAMPLES", "5"))
FUZZ = settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])
# Endpoints that end the fuzzing user's session; they are exercised in tests/auth.
SKIP = {"static", "auth.logout"}
ARG = re.compile(r"<(?:(\w+)(?:\([^>]*\))?:)?(\w+)>")
PREFIXES = ("", "rules-", "skus-0-", "skus-1-", "rename-", "move-", "image-")

ODD_TEXT = ["", " ", "\n", "alice\n", "\x00", "\r\n", "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "1e17",
            "1e999", "99999999999999999999999", str(2**63), str(2**64), "-1", "0", "1.234", "12.5", "¥12", "１２",
            "²", "null", "true", "[]", "{}", "' OR 1=1 --", "<script>", "%00", "../../etc/passwd", "\u202e",
            "\ud7ff", "😀" * 40, "x" * 5000, "2031-03-01T10:00", "SH001", "GD001", "R-SH", "on", "y", "1",
            "amount", "percent", "coupon", "region", "active", "suspended", "closed", "regional_manager",
            "store_owner", "notice", "up", "down"]


def _form_field_names() -> list[str]:
    """Every field name of every form class in the app (walked through WTForms' subclasses)."""
    import portal.assortments.forms
    import portal.auth.forms
    import portal.campaigns.forms  # noqa: F401,E401
    import portal.decoration.blocks  # noqa: F401,E401
    import portal.decoration.forms
    import portal.goods.forms
    import portal.org.forms
    import portal.pushes.forms  # noqa: F401,E401

    names, todo = set(), [Form]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        for klass in cls.__mro__:
            names.update(k for k, v in vars(klass).items() if isinstance(v, UnboundField))
    return sorted(names | {"ids", "store_ids", "product_ids", "node_ids", "action", "filter", "all_matching",
                           "page", "q", "sort", "dir", "status", "node", "tag", "target_id", "lang", "next",
                           "on_shelf", "active", "locked", "direction", "archived", "all", "size", "outcome",
                           "per_page", "category", "shelf", "kind", "state", "from", "to", "actor"})


FIELD_NAMES = _form_field_names()
# Parameters that carry numbers (ids, pages, prices, counts), and numbers no form should take.
NUMBER_KEYS = ["page", "per_page", "node", "parent", "target_id", "ids", "store_ids", "product_ids", "node_ids",
               "node_id", "parent_id", "move-parent_id", "skus-0-id", "price", "stock", "skus-0-price",
               "skus-0-list_price", "skus-0-price_floor", "skus-0-price_ceiling", "rules-amount", "rules-budget",
               "rules-threshold", "rules-per_member", "rules-percent", "interval", "limit", "x", "y", "w", "h",
               "columns", "commission"]
ODD_NUMBERS = [str(2**63), str(2**63 - 1), str(10**30), "99999999999999999999999", "-1", "0", "NaN", "sNaN",
               "Infinity", "-Infinity", "1e17", "1e999", "1.234", "²", "１２", "abc", "", " 1", "1\n", "0x10"]

texts = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
keys = st.one_of(st.sampled_from(FIELD_NAMES),
                 st.tuples(st.sampled_from(PREFIXES), st.sampled_from(FIELD_NAMES)).map("".join),
                 st.text(max_size=12))
odd_pairs = st.lists(st.tuples(st.sampled_from(NUMBER_KEYS), st.sampled_from(ODD_NUMBERS)), min_size=1, max_size=6)
random_pairs = st.lists(st.tuples(keys, texts), max_size=10)
# Repeated keys happen, missing fields too.
pairs = st.tuples(odd_pairs, random_pairs).flatmap(lambda t: st.permutations(t[0] + t[1]))

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
              st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(ODD_TEXT), st.text(max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.dictionaries(st.one_of(st.sampled_from(["member", "code", "id", "page"]),
                                                         st.text(max_size=8)), children, max_size=5)),
    max_leaves=20)
json_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v, allow_nan=True)),
    st.fixed_dictionaries({"member": json_values}).map(lambda v: json.dumps(v, allow_nan=True)),
    st.sampled_from(["[" * 5000, "{" * 5000, '{"member": "a"', "", "nope", '{"member": NaN}', "\xff"]),
    st.text(max_size=50),
)


class Pool:
    """Real ids and names of the test organisation, to fill URL arguments."""

    def __init__(self, app, org):
        for kind in ("store", "node", "user", "apikey", "target", "push", "template", "offer", "shelf_sku",
                     "local_product", "assortment", "product_image"):
            _ids(org, kind)
        self.ids = sorted({i for table in db.metadata.sorted_tables if "id" in table.c
                           for i in db.session.scalars(select(table.c.id).limit(40))})
        from portal.campaigns.forms import RULE_FORMS
        from portal.goods.models import ProductImage

        thumbs = list(db.session.scalars(select(ProductImage.thumb)))
        self.strings = ["SH001", "GD001", "blk1", *RULE_FORMS, *thumbs]
        self.rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP]


def _url_args(pool: Pool):
    ids = st.one_of(st.sampled_from(pool.ids), st.sampled_from([0, 2**63, 10**30, 999_999]))
    names = st.one_of(st.sampled_from(pool.strings), st.text(min_size=1, max_size=12))
    return ids, names


def _build(rule, draw, ids, names) -> str:
    def fill(m):
        converter = m.group(1) or "default"
        if converter in ("int", "id"):
            return str(draw(ids))
        return _quote(draw(names))
    return ARG.sub(fill, rule.rule)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="") or "x"


@st.composite
def requests(draw, pool: Pool, rule, method: str):
    ids, names = _url_args(pool)
    url = _build(rule, draw, ids, names)
    query = draw(pairs) if method == "GET" or draw(st.booleans()) else []
    if method == "POST" and url.startswith("/api/"):
        return method, url, query, {"json": draw(json_bodies)}
    if method == "POST":
        form = MultiDict(draw(pairs))
        if draw(st.integers(0, 9)):
            form.add("csrf_token", "{csrf}")
        if draw(st.integers(0, 5)) == 0:
            form.add(
                "file", (io.BytesIO(draw(st.binary(max_size=300))), draw(st.sampled_from(["a.csv", "a.png", "x"])))
            )
        return method, url, query, {"form": form}
    return method, url, query, {}


def _send(client, api_key, method, url, query, body):
    headers = {"Authorization": f"Bearer {api_key}"} if url.startswith("/api/") else {}
    if method == "GET":
        return client.get(url, query_string=MultiDict(query), headers=headers)
    if "json" in body:
        return client.post(url, query_string=MultiDict(query), data=body["json"].encode("utf-8", "surrogatepass"),
                           headers={**headers, "Content-Type": "application/json"}, csrf=False)
    form = MultiDict([(k, client.csrf_token() if v == "{csrf}" else v) for k, v in body["form"].items(multi=True)])
    return client.post(url, query_string=MultiDict(query), data=form, headers=headers, csrf=False)


@pytest.mark.parametrize("who", ALL + ("anonymous",))
def test_no_random_request_answers_500(app, client, org, who):
    from portal.api.services import issue_key

    pool = Pool(app, org)
    _row, api_key = issue_key(org.stores["sh1"], actor=None)
    db.session.commit()
    if who != "anonymous":
        login(client, org.users[who].username)

    for rule in pool.rules:
        for method in sorted(rule.methods & {"GET", "POST"}):
            @FUZZ
            @given(request=requests(pool, rule, method))
            def one(request):
                method, url, query, body = request
                response = _send(client, api_key, method, url, query, body)
                assert response.status_code < 500, (method, url, query, body, response.status_code)

            one()
