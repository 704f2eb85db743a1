"""Data page in AppTest: counts, browse/filter/paginate, upload preview before import, splits, export."""
import pytest
from streamlit.testing.v1 import AppTest

from db import projects as project_repo
from db import samples as sample_repo
from tests.conftest import ROOT

PAGE = str(ROOT / "ui" / "pages" / "data.py")


def _page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update(query)
    return at.run()


@pytest.fixture
def project(S):
    with S.begin() as s:
        p = project_repo.create_project(s, "News", "ner", ["person"])
        sample_repo.add_samples(s, p, [
            sample_repo.NewSample(f"Ann said {i}", [(0, 3), (4, 8), (9, 9 + len(str(i)))],
                                  status="labeled" if i < 30 else "unlabeled", spans=[(0, 3, "person")] if i < 30 else [])
            for i in range(40)
        ])
    return S


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_no_project_says_what_to_do(S):
    at = _page()
    assert not at.exception and "create one on the Projects page" in at.info[0].value


def test_counts_browse_search_filter_and_pages(project):
    at = _page(project="News")
    assert not at.exception
    assert _metrics(at) == {"Samples": "40", "Labelled": "30", "Train": "0", "Dev": "0", "Test": "0", "Unassigned": "40"}
    table = at.dataframe[0].value
    assert len(table) == 25 and table["labels"][0] == "Ann (person)"
    assert table["label"][0] == "/label?project=News&sample=1"
    at.number_input(key="data_page").set_value(2).run()
    assert len(at.dataframe[0].value) == 15
    at.selectbox(key="data_status").select("unlabeled").run()  # fewer pages: back to the last one
    assert at.number_input(key="data_page").value == 1
    assert at.dataframe[0].value["text"].tolist()[0] == "Ann said 30"
    at.text_input(key="data_search").input("said 35").run()
    assert at.dataframe[0].value["id"].tolist() == [36]


def _preview(name: str, data: bytes) -> dict:
    # AppTest cannot drive st.file_uploader: this is the call the page makes on an upload
    # (the browser test tests/e2e/test_data_page_e2e.py uploads a real file).
    from ui import data_view

    return data_view.preview(data_view.import_request("News", name, "auto", data_view.FROM_FILE, "", "", False), data)


def test_preview_shows_every_bad_line_and_writes_nothing(project):
    check = _preview("bad.conll", b"Bob\tB-person\n\nx\tX-person\n\ny\n")
    assert [e["line"] for e in check["errors"]] == [3, 5] and check["records"] == 1
    assert _metrics(_page(project="News"))["Samples"] == "40"


def test_assign_splits_with_a_fixed_seed(project):
    at = _page(project="News")
    at.button(key="split_go").click().run()
    assert "Assigned train 32, dev 4, test 4" in at.success[0].value
    assert _metrics(at)["Train"] == "32" and _metrics(at)["Unassigned"] == "0"


def test_bad_ratios_are_explained(project):
    at = _page(project="News")
    at.number_input(key="split_train").set_value(0.9).run()
    at.button(key="split_go").click().run()
    assert "sum to 1" in at.error[0].value


def test_export_prepares_a_download(project):
    at = _page(project="News")
    at.selectbox(key="export_format").select("conll").run()
    at.button(key="export_prepare").click().run()
    assert not at.exception
    assert "30 samples (10 left out" in at.caption[-1].value
    data, report, filename = at.session_state["export_ready_News_conll_any"]
    assert filename == "News.conll" and data.startswith(b"Ann\tB-person\nsaid\tO\n")


def test_unlabelled_rows_warning_counts_rows_in_words_without_a_command_line_flag(S):
    from ui import data_view

    with S.begin() as s:
        project_repo.create_project(s, "Cls", "classification")
    for rows, words in ((1, "1 row will"), (379, "379 rows will")):
        data = b"text\n" + b"".join(f"review {i}\n".encode() for i in range(rows))
        check = data_view.preview(data_view.import_request("Cls", "r.csv", "auto", data_view.FROM_FILE, "", "", False), data)
        text = data_view.warning_text(check["warnings"][0])
        assert text.startswith(f"{words} be imported unlabelled") and "--" not in text


def test_columns_offered_are_the_files_own(S):
    from ui import data_view

    tsv = b"id\treview\trating\n1\tgood\tpositive\n"
    assert data_view.column_choices("r.tsv", tsv, "auto") == ["id", "review", "rating"]
    assert data_view.column_choices("r.conll", b"a\tO\n", "auto") == []


def test_export_offers_every_format_of_the_task_and_names_the_file(project):
    at = _page(project="News")
    assert at.selectbox(key="export_format").options == ["conll", "jsonl", "json", "labelstudio", "hf", "bundle"]
    from ui import data_view

    data, report, name = data_view.export("News", "bundle", "any")
    assert name == "News.tagtune" and report["exported"] == 40


def test_a_bundle_uploaded_on_the_data_page_creates_a_project(project):
    from ui import data_view

    data, _, name = data_view.export("News", "bundle", "any")
    assert data_view.is_bundle(name)
    report = data_view.import_bundle(data, "News copy")
    assert report["errors"] == [] and report["imported"] == 40
    assert data_view.import_bundle(data, "News copy")["errors"][0]["message"].startswith("a project named")
