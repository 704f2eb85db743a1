"""The export of a run with an extended vocabulary carries the extended tokenizer, loads in
``transformers.pipeline`` and tags a Chinese sentence character by character."""
from __future__ import annotations

from core.train.config import TrainConfig
from core.train.trainer import train_examples
from tests.zh_sample import ZH_LABELS, ZH_UNCOVERED, zh_examples


def test_extended_export_loads_in_pipeline_and_tags_a_chinese_sentence(tiny_model, tmp_path):
    from transformers import AutoTokenizer, pipeline

    config = TrainConfig(model=str(tiny_model), extend_vocabulary=True, epochs=60, batch_size=4, learning_rate=5e-3,
                         warmup_ratio=0.0, seed=1)
    result = train_examples(config, zh_examples(2), [], ZH_LABELS, "ner", tmp_path / "run")
    tokenizer = AutoTokenizer.from_pretrained(str(result.model_dir))
    assert len(tokenizer) == 30522 + len(ZH_UNCOVERED)
    tagger = pipeline("token-classification", model=str(result.model_dir), aggregation_strategy="simple")
    text = "王小明在北京大学读书。"
    found = [(e["entity_group"], e["start"], e["end"]) for e in tagger(text)]
    assert found == [("PER", 0, 3), ("ORG", 4, 8)], found
    # 在 and 读书 are new tokens: without them the sentence would read 王小明 [UNK] 北京大学 [UNK] [UNK].
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.unk_token_id not in ids and len(ids) == len(text)
