"""Domain-adaptive pretraining: masked-LM loss, fixed held-out masks, a run the worker executes
with curves and cancel, and fine-tuning that starts from its checkpoint (run:N)."""
from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from core.text.tokenize import word_offsets
from core.train.callback import MemoryReporter
from core.train.mlm import MaskingCollator, PretrainTrainer, _encode, _fixed_masks, pretrain_texts
from core.train.pretrain import PretrainConfig
from tests.zh_sample import ZH, ZH_UNCOVERED, seed_zh_project

ITEMS = [(t, word_offsets(t)) for t, _ in ZH] * 8  # 32 texts


def test_loss_on_masked_positions_only_equals_the_models_own_loss(tiny_model):
    from transformers import AutoModelForMaskedLM

    from core.train.model import load_tokenizer_of

    tokenizer = load_tokenizer_of(str(tiny_model))
    model = AutoModelForMaskedLM.from_pretrained(str(tiny_model)).eval()
    torch.manual_seed(0)
    batch = MaskingCollator(tokenizer, 0.3)(_encode(tokenizer, ITEMS[:4], 64))
    assert (batch["labels"] != -100).sum() > 0
    own = model(**batch).loss
    ours = PretrainTrainer.compute_loss(object.__new__(PretrainTrainer), model, batch)
    assert torch.allclose(ours, own, atol=1e-5)


def test_held_out_masks_are_fixed_and_never_mask_special_tokens(tiny_model):
    from core.train.model import load_tokenizer_of

    tokenizer = load_tokenizer_of(str(tiny_model))
    collator = MaskingCollator(tokenizer, 0.15)
    features = _encode(tokenizer, ITEMS, 64)
    first, again = _fixed_masks(collator, features, 7), _fixed_masks(collator, features, 7)
    assert first == again and _fixed_masks(collator, features, 8) != first
    masked = [(row["input_ids"][0], row["labels"][0], row["labels"][-1]) for row in first]
    assert all(ids == tokenizer.cls_token_id and a == -100 and b == -100 for ids, a, b in masked)
    share = sum(l != -100 for row in first for l in row["labels"]) / sum(len(row["labels"]) - 2 for row in first)
    assert 0.08 < share < 0.25


def test_pretraining_extends_the_vocabulary_initialises_a_head_and_exports(tiny_model, tmp_path):
    config = PretrainConfig(model=str(tiny_model), max_steps=6, batch_size=8, learning_rate=1e-3, eval_share=0.25,
                            log_every=1)
    reporter = MemoryReporter()
    result = pretrain_texts(config, ITEMS, tmp_path / "out", callback=reporter)
    assert result.steps == 6 and result.texts == 24 and result.metrics["dev_texts"] == 8
    assert any("no masked-LM head" in n for n in result.notes)  # the tiny model is a bare BertModel
    assert result.vocabulary["characters"] == len(ZH_UNCOVERED)
    names = {name for _, _, name, _ in reporter.points}
    assert {"loss", "learning_rate", "dev_loss"} <= names
    assert result.metrics["perplexity"] == pytest.approx(torch.tensor(result.metrics["dev_loss"]).exp().item(), rel=1e-4)

    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(result.model_dir))
    assert all(tokenizer.convert_tokens_to_ids(c) != tokenizer.unk_token_id for c in ZH_UNCOVERED)
    model, info = AutoModelForMaskedLM.from_pretrained(str(result.model_dir), output_loading_info=True)
    assert info["missing_keys"] == set() or not info["missing_keys"]
    assert model.get_input_embeddings().weight.shape[0] == len(tokenizer)
    saved = json.loads((result.model_dir / "tagtune.json").read_text())
    assert saved["kind"] == "pretrain" and saved["config"]["max_steps"] == 6


def test_a_cancelled_pretraining_exports_nothing(tiny_model, tmp_path):
    result = pretrain_texts(PretrainConfig(model=str(tiny_model), max_steps=50, batch_size=4, eval_share=0),
                            ITEMS, tmp_path / "out", callback=MemoryReporter(stop_after_step=2))
    assert result.cancelled and result.model_dir is None and result.steps == 2


def test_pretraining_resumes_into_fine_tuning(S, tiny_model):
    """A pretrain run through the worker's handler, then a fine-tuning run with model run:N starts
    from its encoder weights and its extended tokenizer (no refusal: coverage is complete)."""
    from core.runs.jobs import handler_for
    from core.train.config import TrainConfig
    from core.train.launch import create_finetune_run
    from core.train.models import find_models, rank
    from core.train.pretrain_run import create_pretrain_run
    from db import projects as project_repo
    from db import runs as run_repo

    seed_zh_project(S, "zh", repeat=4, dev=1, test=1)
    with S.begin() as s:
        pre = create_pretrain_run(s, "zh", PretrainConfig(model=str(tiny_model), max_steps=4, batch_size=8,
                                                          learning_rate=1e-3, log_every=1), status="running").id
    handler_for("pretrain")(pre)
    with S.begin() as s:
        run = run_repo.get_run(s, pre)
        assert run.status == "completed", run.error
        assert run.metrics["train_texts"] + run.metrics["dev_texts"] == 20  # train + dev splits, never test
        assert run.metrics["tokenizer_coverage"]["before"]["distinct_unknown"] == len(ZH_UNCOVERED)
        assert run.metrics["tokenizer_coverage"]["after"]["unknown"] == 0
        assert {p.name for p in run_repo.points(s, [pre])} >= {"loss", "learning_rate"}
        pretrained = run.checkpoint
        ranked = rank(s, project_repo.get_project(s, "zh"), find_models(s))
    assert ranked[0]["ref"] == f"run:{pre}" and ranked[0]["recommended"]

    config = TrainConfig(model=f"run:{pre}", max_steps=1, batch_size=4, learning_rate=1e-12, weight_decay=0.0)
    with S.begin() as s:
        tune = create_finetune_run(s, "zh", config, status="running").id  # no refusal: run:N covers the text
    handler_for("finetune")(tune)
    with S.begin() as s:
        run = run_repo.get_run(s, tune)
        assert run.status == "completed", run.error
        assert run.metrics["tokenizer_coverage"]["before"]["unknown"] == 0
        exported = run.checkpoint
    base, start, tuned = (load_file(f"{folder}/model.safetensors")
                          for folder in (tiny_model, pretrained, exported))
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.allclose(tuned[key], start[key], atol=1e-6)  # started from the pretrained encoder
    assert not torch.allclose(start[key], base[f"encoder.layer.0.attention.self.query.weight"], atol=1e-4)
    assert tuned["bert.embeddings.word_embeddings.weight"].shape == start["bert.embeddings.word_embeddings.weight"].shape
