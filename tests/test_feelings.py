"""The line that acknowledges a feeling: only for feelings named, varied, from a checked file."""
import pytest

from knowledge.feelings import feeling_line, load_feelings


@pytest.mark.parametrize("text", [
    "im scared theyll take my flat off me", "so stressed about money rn", "feeling really low lately",
    "honestly fed up with waiting for my grant", "got into uni!! what help is there",
])
def test_a_named_feeling_gets_a_line(text):
    assert feeling_line(text)


@pytest.mark.parametrize("text", [
    "is there a free gym", "lost my bus pass", "i live alone in a flat", "my nan passed away last year, can i get help with travel",
])
def test_no_line_without_a_named_feeling(text):
    assert feeling_line(text) is None


def test_a_repeated_feeling_gets_different_words():
    assert feeling_line("so worried", 0) != feeling_line("so worried", 1)


def test_every_line_is_short():
    assert all(len(line) <= 80 for feeling in load_feelings() for line in feeling.lines)


def test_a_broken_file_names_the_entry(tmp_path):
    bad = tmp_path / "feelings.yml"
    bad.write_text("version: 1\nfeelings:\n  - id: x\n    words: ['(']\n    lines: [hi]\n")
    with pytest.raises(ValueError, match=r"feelings item 1 \(x\): invalid regular expression"):
        load_feelings(bad)
