"""The admin in a real browser: headless Chromium (Debian's) driven by Playwright against the
live test server, on the upgraded sample production database. Screenshots of every step go
to ``test-artifacts/browser/`` (git-ignored).

Chromium comes from ``apt-get install chromium`` (``.ci/run`` installs it); Playwright's own
browser downloads are not used. Outside CI a machine without Chromium skips this test; under
``CI=true`` a missing browser is a failure.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from tests.test_admin import (  # noqa: F401  (admin_db: a fixture)
    PASSWORD,
    SECRET_FRAGMENTS,
    admin_db,
    admin_url,
    domain_models,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "browser"
VIEWPORT = {"width": 1280, "height": 800}

# How the result table of a changelist fits its box: nothing wider than the box, no
# horizontal scrolling of the page, and every value cut by an ellipsis has its full text
# as a tooltip.
FIT = """() => {
  const table = document.querySelector('#result_list');
  const box = table.parentElement;
  const cut = Array.from(table.querySelectorAll('tbody td, tbody th'))
    .filter(cell => cell.scrollWidth > cell.clientWidth);
  return {
    table: table.scrollWidth, box: box.clientWidth,
    page: document.documentElement.scrollWidth, viewport: window.innerWidth,
    cut: cut.length,
    untitled: cut.filter(cell => !cell.title).map(cell => cell.className),
  };
}"""
SEVERITY_COLOURS = """() => Object.fromEntries(
  ['error', 'warning', 'info'].map(severity => {
    const badge = document.querySelector(`#integrity-findings tr.severity-${severity} .severity`);
    return [severity, badge && {
      text: badge.textContent.trim(),
      background: getComputedStyle(badge).backgroundColor,
      color: getComputedStyle(badge).color,
    }];
  }))"""


def require_browser():
    missing = []
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python (pip install -e '.[dev]')")
    if missing:
        message = "The browser test needs " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def browser_page(live_server, monkeypatch):
    require_browser()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM work of the fixtures
    # is done before it starts, and the live server answers from its own thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def shot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


def assert_no_secret(page):
    html = page.content()
    assert [s for s in SECRET_FRAGMENTS if s in html] == []


def assert_fits(page, url: str) -> dict:
    fit = page.evaluate(FIT)
    assert fit["table"] <= fit["box"], f"{url}: columns cut off at 1280 px: {fit}"
    assert fit["page"] <= fit["viewport"], f"{url}: the page scrolls sideways: {fit}"
    assert fit["untitled"] == [], f"{url}: cut values without their full text: {fit}"
    return fit


def test_admin_in_a_real_browser(admin_db, live_server, browser_page):  # noqa: F811
    page = browser_page
    base = live_server.url

    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", admin_db.superuser.username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")
    assert "Site administration" in page.title()
    assert page.locator("#database-inspection").is_visible()
    shot(page, "01-index")

    # Every changelist is readable at 1280 px: its columns fit, long values are cut with an
    # ellipsis and keep their full text on hover.
    cut = 0
    for model in domain_models():
        url = admin_url(model, "changelist")
        page.goto(f"{base}{url}")
        page.wait_for_selector("#result_list")
        cut += assert_fits(page, url)["cut"]
    assert cut > 0  # the sample has values too long for 1280 px: the ellipsis is exercised

    # The largest table's list: rows, filters read through the index, an estimated count.
    page.goto(f"{base}/admin/content/contentlog/")
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 5
    assert page.locator("#changelist-filter").is_visible()
    assert_fits(page, page.url)
    created = page.locator("#result_list tbody td.field-created_at time").first
    # Short of room, the list keeps the date and drops the time of day; hover has it all.
    assert re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d)?", created.inner_text())
    assert created.get_attribute("title") == created.get_attribute("datetime")
    assert created.inner_text()[:10] in created.get_attribute("title")
    assert_no_secret(page)
    shot(page, "02-content-logs")

    # A filtered view, reached by clicking the filter as a person would.
    page.locator("#changelist-filter a", has_text="instagram").first.click()
    page.wait_for_selector("#result_list")
    assert "platform=instagram" in page.url
    platforms = page.locator("#result_list tbody td.field-platform").all_inner_texts()
    assert platforms and set(platforms) == {"instagram"}
    shot(page, "03-content-logs-instagram")

    # A change page, opened from the list.
    page.locator("#result_list tbody th a").first.click()
    page.wait_for_selector("form#contentlog_form")
    assert re.search(r"/admin/content/contentlog/\d+/change/", page.url)
    assert page.locator("input[name=_save]").is_visible()
    shot(page, "04-content-log-change")

    # A user's change page: the secrets are there only as masked hints.
    page.goto(f"{base}/admin/accounts/user/1/change/")
    page.wait_for_selector("form#user_form")
    text = page.inner_text("#content-main")
    # The sample's 2FA secret is plaintext: the platform must encrypt it (D17).
    assert re.search(r"•••• \(not encrypted, \d+ chars\)", text)
    assert "•••• (hidden)" in text
    assert_no_secret(page)
    shot(page, "05-user-masked-secrets")

    # A connection's tokens, the same.
    page.goto(f"{base}/admin/social/socialplatformconnection/1/change/")
    page.wait_for_selector("#content-main")
    assert "Access token (secret)" in page.inner_text("#content-main")
    assert_no_secret(page)
    shot(page, "06-connection-masked-tokens")

    # The archive: the manifest's summary first, the empty archive tables folded away.
    page.goto(f"{base}/admin/inspect/archive/")
    page.wait_for_selector("#archive-summary")
    order = page.evaluate(
        """() => ['#archive-summary', '#archive-tables', '#archive-empty']
                 .map(s => document.querySelector(s).getBoundingClientRect().top)"""
    )
    assert order == sorted(order)
    folded = page.locator("details#archive-empty")
    assert re.fullmatch(r"\d+ empty archive table\(s\)", folded.locator("summary").inner_text())
    assert folded.get_attribute("open") is None
    assert not page.locator("#archive-empty-tables").is_visible()
    assert page.locator("#archive-tables").is_visible()
    assert_no_secret(page)
    shot(page, "07-archive")
    folded.locator("summary").click()
    assert page.locator("#archive-empty-tables").is_visible()
    assert page.locator("#archive-empty-tables a", has_text="__raw_json").count() > 10

    # The integrity report is there without pressing anything, severities in colour and words.
    page.goto(f"{base}/admin/inspect/integrity/")
    page.wait_for_selector("#integrity-summary")
    assert page.locator("#integrity-findings tbody tr").count() > 0
    colours = {name: badge for name, badge in page.evaluate(SEVERITY_COLOURS).items() if badge}
    assert set(colours) == {"error", "warning", "info"}  # the sample has all three
    for severity, badge in colours.items():
        assert badge["text"].lower() == severity  # the word, not only the colour
        assert badge["background"] not in ("rgba(0, 0, 0, 0)", "transparent"), badge
    assert len({badge["background"] for badge in colours.values()}) == len(colours)
    assert page.locator("input[type=submit][value='Run again']").is_visible()
    assert_no_secret(page)
    shot(page, "08-integrity")

    assert sorted(p.name for p in ARTIFACTS.glob("0*.png")) == [
        "01-index.png",
        "02-content-logs.png",
        "03-content-logs-instagram.png",
        "04-content-log-change.png",
        "05-user-masked-secrets.png",
        "06-connection-masked-tokens.png",
        "07-archive.png",
        "08-integrity.png",
    ]
