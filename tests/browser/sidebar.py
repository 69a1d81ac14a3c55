"""Driving the app's sidebar settings in headless Chromium (shared by the browser tests)."""

from __future__ import annotations


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the sidebar selectbox labelled ``label``.

    A page run that ends while the list is open redraws the sidebar and closes it, so the
    list is opened again until the option can be clicked."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    select = (
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]')
        .filter(has_text=label)
        .locator("input")
    )
    for _ in range(6):
        select.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"{option!r} never appeared in the {label!r} list")


def set_number(page, label: str, value: int) -> None:
    field = page.locator('[data-testid="stSidebar"]').get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
