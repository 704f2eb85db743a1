"""The app serves every page at its stable URL path (DESIGN.md: links open the same view)."""
import pytest

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

PAGES = ["", "projects", "data", "label", "train", "runs", "evaluate", "inspect", "icl"]


def test_every_page_loads_at_its_own_path_without_an_exception(app, page):
    for path in PAGES:
        page.goto(app.url(path))
        wait_for_app(page)
        assert page.locator('[data-testid="stException"]').count() == 0, f"/{path} raised"
        assert "Page not found" not in page.inner_text("body"), f"/{path} is not a page"
        assert page.url.rstrip("/").endswith(f"/{path}".rstrip("/")), f"/{path} was redirected to {page.url}"
