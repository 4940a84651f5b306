"""The HTML report in a real headless browser (Debian chromium driven by playwright)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import require

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EVIL = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\"><b>bold</b>"


@pytest.fixture(scope="module")
def browser():
    require(Path(CHROMIUM).exists(), "chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        require(False, "the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _open(browser, path: Path):
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:80]}"))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, problems


def test_report_renders_cleanly_and_cases_are_followable(browser, scanned):
    page, problems = _open(browser, scanned.out / "report.html")
    assert problems == []
    for heading in ("Overview", "Data quality", "The 11 stages", "Top alerts", "Cases"):
        assert page.get_by_role("heading", name=heading).count() >= 1
    broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length")
    assert broken == 0
    assert page.evaluate("Array.from(document.querySelectorAll('link[href], script[src]')).length") == 0, "offline"
    # Every case link of the overview leads to a case section with its evidence table.
    targets = page.evaluate("Array.from(document.querySelectorAll('a[href^=\"#\"]')).map(a => a.getAttribute('href'))")
    assert targets
    for target in set(targets):
        section = page.locator(f"section[id='{target[1:]}']")
        assert section.count() == 1, target
        assert section.locator("details table").count() == 1
    # The highest cases carry their charts (timeline, flow diagram, categories, cities).
    first = page.locator("section").first
    assert first.locator("img").count() >= 3
    page.close()


def test_memo_markup_shows_as_plain_text(browser, tmp_path: Path):
    import followmoney

    rows = ["txn_id,ts,amount,currency,payer_account,beneficiary_account,channel,memo"]
    for i, (day, amount) in enumerate(((1, 9500), (2, 9800), (4, 9100))):
        rows.append(f"t{i},2024-01-0{day}T10:00:00,{amount},USD,,S1,cash,\"{EVIL.replace(chr(34), chr(34) * 2)}\"")
    for i in range(40):
        rows.append(f"n{i},2024-02-{1 + i % 28:02d}T09:00:00,{20 + i},USD,C1,SHOP,card,")
    path = tmp_path / "evil.csv"
    path.write_text("\n".join(rows) + "\n")
    result = followmoney.scan(str(path), out=tmp_path / "out")
    assert result.n_alerts >= 1
    page, problems = _open(browser, result.out / "report.html")
    assert problems == []
    assert page.evaluate("window.__pwned") is None, "markup in data must never run"
    assert page.locator("section b:text('bold')").count() == 0
    text = page.evaluate("document.body.textContent")
    assert EVIL in text, "the memo is shown as the literal text it is"
    page.close()
