"""The annotator identity: names are cleaned or refused with the reason."""
import pytest


def test_an_annotator_name_is_cleaned_or_refused_with_the_reason():
    from ui.annotator import NEW_ANNOTATOR, clean_annotator

    assert clean_annotator("  Ada   Lovelace ") == "Ada Lovelace"
    for bad, reason in (("   ", "found an empty one"), ("x" * 101, "at most 100 characters, found 101"),
                        ("a\x07b", "cannot be an annotator name"), (NEW_ANNOTATOR, "cannot be an annotator name")):
        with pytest.raises(ValueError, match=reason):
            clean_annotator(bad)
