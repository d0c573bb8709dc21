"""Browser fixtures: the real app served on a free local port, and Debian's Chromium driven by
Playwright. One browser per run; a fresh context (cookies, viewport) per test."""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from portal.extensions import db
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000


class QuietHandler(WSGIRequestHandler):
    """No access log: a failing test's output should show the failure, not every static file."""

    def log_request(self, *args, **kwargs):
        pass


class LiveServer:
    """A werkzeug server for one app, in a daemon thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        # server_close() waits for the requests still being answered (werkzeug makes its request
        # threads daemons, which it would not wait for): a late one must not write into the next test.
        self.server.daemon_threads = False
        self.server.block_on_close = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def world(app):
    """The small brand of tests/factories.py plus 120 stores in Suzhou (so lists page), committed."""
    w = factories.make_world()
    for i in range(1, 121):
        factories.make_store(w.nodes["r_js"], f"SZ{i:03d}", name=f"苏州观前街{i}号店", city="苏州",
                             status="suspended" if i % 10 == 0 else "active")
    db.session.commit()
    return w


@pytest.fixture
def live_server(app, world):
    """Serves ``app`` (the tests/conftest.py app on the session database) on 127.0.0.1:<free port>.

    Declared after ``world`` so the data is committed before the first request, and torn down
    before ``app`` wipes the tables."""
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """One Chromium per test process. A missing Playwright or Chromium fails the browser tests
    (never skips them): `bash .ci/setup --tests` installs both."""
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None
    if sync_api is None:
        pytest.fail("Playwright is not installed; run `bash .ci/setup --tests`.", pytrace=False)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; run `bash .ci/setup --tests`.", pytrace=False)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _new_page(browser, live_server, **context_kw):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", **context_kw)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server):
    """A desktop-sized page in a fresh context (no cookies)."""
    context, page = _new_page(browser, live_server, viewport={"width": 1280, "height": 900})
    yield page
    context.close()


@pytest.fixture
def phone_page(browser, live_server):
    """A phone-sized page (390x844, touch) in a fresh context."""
    context, page = _new_page(browser, live_server, viewport={"width": 390, "height": 844},
                              device_scale_factor=2, is_mobile=True, has_touch=True)
    yield page
    context.close()

