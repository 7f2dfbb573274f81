"""Browser tests: one seeded register served by gunicorn behind nginx for the whole session,
Debian's Chromium driven by Playwright, and helpers that act like a resident, a petugas or a
reviewer.

Every test here is skipped, with the reason, where /usr/bin/chromium, Playwright or nginx is
missing (`apt-get install chromium lynx nginx-light libnginx-mod-http-brotli-static`; `.ci/run`
installs them).
"""
from __future__ import annotations

import os

import e2e_support
import nginx_support
import pytest
from e2e_support import CHROMIUM


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Cek Bansos under gunicorn (2 workers) behind nginx (deploy/nginx.conf.example), both on
    127.0.0.1:8501-8509, 2,000 seeded residents; the tests talk to nginx."""
    try:
        server = e2e_support.start(tmp_path_factory.mktemp("e2e"))
    except nginx_support.NginxUnavailable as exc:
        pytest.skip(f"browser tests skipped: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_instance():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing "
                    "(apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: Playwright for Python is not installed "
                    "(pip install -r requirements-dev.txt)")

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = e2e_support.launch_chromium(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(js=True, **context_options): a fresh profile (no cookies, no cache) each call."""
    contexts = []

    def make(js: bool = True, **options):
        options.setdefault("viewport", {"width": 360, "height": 640})
        context = browser.new_context(java_script_enabled=js, base_url=live_server.url,
                                      locale="id-ID", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()
