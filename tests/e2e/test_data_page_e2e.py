"""Data page in a real browser: upload shows the per-line errors before anything is written,
then a clean file imports with one click."""
import pytest

from db import projects as project_repo
from db import samples as sample_repo
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def _count(app) -> int:
    with app.sessions().begin() as s:
        return sample_repo.stats(s, project_repo.get_project(s, "News"))["samples"]


def test_upload_preview_errors_then_import(app, page, tmp_path):
    with app.sessions().begin() as s:
        project_repo.create_project(s, "News", "ner", ["person"])
    bad = tmp_path / "bad.conll"
    bad.write_text("Bob\tB-person\n\nx\tX-person\n\nlonely\n")
    good = tmp_path / "good.conll"
    good.write_text("Ann\tB-person\nwrites\tO\n\nin\tO\nRome\tB-place\n")

    page.goto(app.url("data", project="News"))
    page.wait_for_selector("h1:has-text('Data')", timeout=120_000)
    wait_for_app(page)
    page.get_by_role("tab", name="Import").click()
    page.locator('input[type="file"]').set_input_files(str(bad))
    page.get_by_text("Nothing will be written while these lines are bad").wait_for()
    page.get_by_text("2 problems").wait_for()
    assert page.get_by_role("button", name="Import 1 sample", exact=True).is_disabled()
    assert _count(app) == 0

    page.locator('input[type="file"]').set_input_files(str(good))  # replaces the bad file
    page.get_by_role("button", name="Import 2 samples").click()
    page.get_by_text("Imported 2 samples").wait_for()
    assert _count(app) == 2
    assert page.locator('[data-testid="stException"]').count() == 0


def test_first_import_stays_on_the_import_tab_with_its_message_and_columns_are_choices(app, page, tmp_path):
    # A project without labels: the first import adds them, which used to move the tabs and
    # throw the page back to Browse, away from the success message (issue 15).
    with app.sessions().begin() as s:
        project_repo.create_project(s, "Reviews", "classification")
    data = tmp_path / "reviews.tsv"
    # "opinion" and "stars": names the import does not take for text and label by itself
    data.write_text("id\topinion\tstars\n1\tGreat phone\tpositive\n2\tBroke in a day\tnegative\n")

    page.goto(app.url("data", project="Reviews"))
    page.wait_for_selector("h1:has-text('Data')", timeout=120_000)
    wait_for_app(page)
    page.get_by_role("tab", name="Import").click()
    page.locator('input[type="file"]').set_input_files(str(data))
    page.get_by_text("0 valid samples, 1 problem").wait_for()  # no 'text' column yet
    # the column boxes offer the file's own columns
    page.get_by_role("combobox", name="Text column").click()
    options = page.get_by_role("option").all_inner_texts()
    assert {"id", "opinion", "stars"} <= set(options)
    page.get_by_role("option", name="opinion", exact=True).click()
    wait_for_app(page)
    warning = page.get_by_text("2 rows will be imported unlabelled")
    warning.wait_for()
    assert "--" not in warning.inner_text()  # no command-line flag inside the web page
    page.get_by_role("combobox", name="Label column").click()
    page.get_by_role("option", name="stars", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Import 2 samples").click()
    page.get_by_text("Imported 2 samples").wait_for()
    assert page.get_by_role("tab", name="Import").get_attribute("aria-selected") == "true"
    assert page.get_by_text("Annotations per label: positive 1 · negative 1").is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
