"""Label a Chinese sentence in a real browser: one token per character, spans on characters."""
from __future__ import annotations

import pytest

from tests.e2e.label_helpers import NER, drag, open_label, seed, stored, token, wait_sample

pytestmark = pytest.mark.e2e


def test_label_chinese_characters_with_mouse_and_keys(app, page):
    ids = seed(app, "zh", ["王小明在北京大学读书。", "李华去上海工作。"], ["PER", "LOC", "ORG"])
    open_label(page, app, "zh")
    wait_sample(page, ids[0])
    assert page.locator(f'{NER} [data-testid="token"]').all_inner_texts() == list("王小明在北京大学读书。")
    drag(page, 0, 2)  # 王小明
    page.keyboard.press("1")
    token(page, 4).click()  # 北 ... 学 with shift+click
    token(page, 7).click(modifiers=["Shift"])
    page.keyboard.press("3")
    spans = [(m.get_attribute("data-label"), "".join(m.locator('[data-testid="token"]').all_inner_texts()))
             for m in page.locator(f'{NER} [data-testid="span"]').all()]
    assert spans == [("PER", "王小明"), ("ORG", "北京大学")]
    page.locator('[data-testid="ner-accept"]').click()
    wait_sample(page, ids[1])
    row, _, _ = stored(app, ids[0])
    assert row.spans == [(0, 3, "PER"), (4, 8, "ORG")] and row.status == "labeled"
