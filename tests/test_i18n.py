"""Translations: every string in the code has a Chinese translation, the catalog is clean and
compiled, and the language switch works (Chinese by default, English on request, remembered
by cookie for visitors and on the account for signed-in users).

The compiled catalog (.mo) is built by the test session, not here."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_babel import force_locale, gettext, ngettext

from portal.org.models import User

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "portal" / "translations"
ZH_DIR = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _extract() -> Catalog:
    """What `pybabel extract -F babel.cfg -k _l -k lazy_gettext .` finds, in memory only."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(["_l", "lazy_gettext"])}
    catalog = Catalog()
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _read_po() -> Catalog:
    with open(ZH_DIR / "messages.po", "rb") as f:
        return read_po(f, locale="zh_Hans_CN")


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return _extract()


@pytest.fixture(scope="module")
def zh() -> Catalog:
    return _read_po()


def _strings(message) -> tuple[str, ...]:
    s = message.string
    return tuple(s) if isinstance(s, (tuple, list)) else (s,)


def _where(message) -> str:
    return ", ".join(f"{f}:{n}" for f, n in message.locations[:3])


def _label(message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


# --------------------------------------------------------------------------- the catalog

def test_extraction_finds_the_ui(extracted):
    """Guards the test itself: an extraction that found nothing would make the next test pass."""
    ids = {_label(m) for m in extracted if m.id}
    assert {"Store code", "Sign in", "Audit log", "Franchise Portal"} <= ids
    assert any(isinstance(m.id, tuple) for m in extracted if m.id), "ngettext strings are extracted"
    assert len(ids) > 100


def test_every_source_string_has_a_chinese_translation(extracted, zh):
    missing = []
    for m in extracted:
        if not m.id:
            continue
        entry = zh.get(m.id, context=m.context)
        if entry is None:
            missing.append(f"{_label(m)!r} (not in messages.po; at {_where(m)})")
        elif not all(s and s.strip() for s in _strings(entry)):
            missing.append(f"{_label(m)!r} (empty msgstr; at {_where(m)})")
    assert not missing, (
        f"{len(missing)} string(s) without a Chinese translation — run `pybabel extract -F babel.cfg "
        "-k _l -k lazy_gettext -o portal/translations/messages.pot .` and `pybabel update -i "
        "portal/translations/messages.pot -d portal/translations --no-fuzzy-matching`, then fill "
        "messages.po:\n  " + "\n  ".join(missing))


def test_plural_entries_are_translated_with_chinese_plural_rules(zh):
    assert zh.num_plurals == 1
    for m in zh:
        if m.id and isinstance(m.id, tuple):
            assert len(_strings(m)) == 1 and _strings(m)[0], _label(m)


def test_no_fuzzy_entries(zh):
    assert not zh.fuzzy, "the header of messages.po is marked fuzzy"
    fuzzy = [_label(m) for m in zh if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries in messages.po (check and remove the flag): {fuzzy}"


def test_catalog_header(zh):
    assert str(zh.locale) == "zh_Hans_CN"


def test_placeholders_survive_translation(zh):
    wrong = []
    for m in zh:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for s in _strings(m):
            if s and set(PLACEHOLDER.findall(s)) != expected:
                wrong.append(f"{_label(m)!r} → {s!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n  " + "\n  ".join(wrong)


def test_terms_the_code_depends_on(zh):
    """store_csv compares the translation of "Store code" and accepts these status labels."""
    expected = {"Store code": "门店编码", "Active": "营业中", "Suspended": "已暂停", "Closed": "已关闭"}
    assert {k: zh.get(k).string for k in expected} == expected


def test_compiled_catalog_matches_the_po(zh):
    mo_path = ZH_DIR / "messages.mo"
    assert mo_path.exists(), "messages.mo is missing: run pybabel compile -d portal/translations"
    with open(mo_path, "rb") as f:
        mo = read_mo(f)
    stale = [_label(m) for m in zh if m.id and (mo.get(m.id, context=m.context) is None
                                                or _strings(mo.get(m.id, context=m.context)) != _strings(m))]
    assert not stale, f"messages.mo is older than messages.po (recompile): {stale[:10]}"


def test_translations_are_used_at_runtime(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        assert gettext("Store code") == "门店编码"
        assert ngettext("%(num)s store", "%(num)s stores", 3) == "3 家门店"
    with app.test_request_context(), force_locale("en"):
        assert gettext("Store code") == "Store code"


# --------------------------------------------------------------------------- the language switch
#
# The `app` fixture keeps one application context open for the whole test, and Flask reuses an
# open application context for every request, so `flask.g` would outlive a request. Flask-Babel
# caches the chosen locale in `g`, so a second request in the same test would keep the first
# request's language. In production every request has its own context; these helpers give each
# request its own too.

def get(client, url: str, **kw):
    with client.application.app_context():
        return client.get(url, **kw)


def post(client, url: str, **kw):
    with client.application.app_context():
        return client.post(url, **kw)


def page(client, url: str) -> str:
    r = get(client, url)
    assert r.status_code == 200, (url, r.status_code)
    return r.get_data(as_text=True)


def _is_chinese(html: str) -> bool:
    return 'lang="zh-CN"' in html and "登录" in html and "Sign in" not in html


def _is_english(html: str) -> bool:
    return '<html lang="en">' in html and "Sign in to the portal" in html and "登录" not in html


def test_login_page_is_chinese_by_default(client):
    assert _is_chinese(page(client, "/login"))


def test_visitor_switches_to_english_and_it_sticks(client):
    assert _is_chinese(page(client, "/login"))
    r = post(client, "/language", data={"lang": "en"}, headers={"Referer": "http://localhost/login"})
    assert r.status_code == 302 and r.location.endswith("/login")
    assert "lang=en" in r.headers["Set-Cookie"]
    for _ in range(2):                          # the cookie carries the choice to later requests
        assert _is_english(page(client, "/login"))

    post(client, "/language", data={"lang": "zh_Hans_CN"})
    assert _is_chinese(page(client, "/login"))


def test_unknown_language_falls_back_to_chinese(client):
    post(client, "/language", data={"lang": "en"})
    post(client, "/language", data={"lang": "xx"})
    assert _is_chinese(page(client, "/login"))


def test_signed_in_users_choice_is_saved_on_the_account(app, login_as, client, org, db):
    with app.app_context():
        login_as("hq")
    html = page(client, "/")
    assert 'lang="zh-CN"' in html and "概览" in html

    post(client, "/language", data={"lang": "en"})
    html = page(client, "/")
    assert '<html lang="en">' in html and "Overview" in html and "概览" not in html
    user = db.session.get(User, org.users["hq"].id)
    db.session.refresh(user)
    assert user.locale == "en"

    # Sign out and forget the cookie: the sign-in page is Chinese again, as for any visitor…
    post(client, "/logout")
    client.delete_cookie("lang")
    assert client.get_cookie("lang") is None
    assert _is_chinese(page(client, "/login"))

    # …and signing in again brings the account's English back, without any cookie.
    with app.app_context():
        login_as("hq")
    html = page(client, "/")
    assert '<html lang="en">' in html and "Overview" in html and "概览" not in html
