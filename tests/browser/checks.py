"""What every browser test asks of a page, whatever it shows: no serious accessibility
violation (axe-core, shipped inside axe-playwright-python, run in the page), no horizontal
scrolling at a phone's width, no table cell too narrow for four Chinese characters, and a
screenshot named after what it shows."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Four Chinese characters of the body text (16px) are 64px wide; a cell with less room
# wraps a word to one character a line.
MIN_CELL_PX = 60
_axe = Axe()


def accessibility_violations(
    page: Page, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[str]:
    """axe-core's violations of the given impacts on the page as it is now, one line each
    (rule, what it says, the first offending elements)."""
    results = _axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in impacts:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}"
            )
    return found


def assert_accessible(page: Page) -> None:
    problems = accessibility_violations(page)
    assert problems == [], f"{page.url}:\n" + "\n".join(problems)


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scrolling), once the
    page and its stylesheets have loaded: after a click that navigates, the new page's
    elements can be found before its layout's stylesheet applies."""
    page.wait_for_load_state("load")
    return page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )


def assert_no_horizontal_scroll(page: Page) -> None:
    overflow = horizontal_overflow(page)
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the {PHONE['width']}px window"


def narrow_cells(page: Page, minimum: int = MIN_CELL_PX) -> list[str]:
    """Visible, non-empty table cells narrower than `minimum` pixels, with their text."""
    return page.evaluate(
        """(minimum) => Array.from(document.querySelectorAll('td, th'))
            .filter(c => c.offsetParent !== null && c.textContent.trim() !== ''
                         && !c.querySelector('input[type=checkbox]')
                         && c.getBoundingClientRect().width < minimum)
            .map(c => Math.round(c.getBoundingClientRect().width) + 'px: '
                      + c.textContent.trim().slice(0, 20))""",
        minimum,
    )


def assert_cells_wide_enough(page: Page) -> None:
    cells = narrow_cells(page)
    assert cells == [], f"{page.url}: cells narrower than four characters: {cells}"


def assert_fits_a_phone(page: Page) -> None:
    """The phone checks together: no horizontal scroll, no cramped cell, accessible."""
    assert_no_horizontal_scroll(page)
    assert_cells_wide_enough(page)
    assert_accessible(page)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save test-artifacts/screenshots/NAME.png (NAME says what it shows)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
