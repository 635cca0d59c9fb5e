"""compress_text / compress_file / compress_documents end to end: real store, real MiniLM,
real PDFs, and a real (small, random-head) token classifier for the pruning stage."""

from __future__ import annotations

import dataclasses
import random
from itertools import product
from pathlib import Path

import pytest

import ctxchat
from ctxchat.engines.compress import compressor as compressor_module
from ctxchat.engines.compress.compressor import Compressor
from ctxchat.engines.errors import CtxchatError, ModelNotFoundError
from ctxchat.engines.ingest import READER_VERSION
from ctxchat.engines.ingest.library import ensure_document
from ctxchat.engines.pipeline import DEFAULT_RATE, CompressorSetup, compress_documents
from ctxchat.engines.select.selector import DOC_CACHE
from ctxchat.engines.store.db import Store
from ctxchat.engines.tokens import count_tokens
from devkit import docgen
from devkit.compressor_checkpoint import tiny_bert_classifier

SENTENCES = [
    "The harbour was busy with boats carrying timber and salted fish.",
    "Farmers in the valley grew barley, cabbages and a few apples.",
    "Winters in the uplands are long and the passes close for weeks.",
    "The town council met in a modest building near the square.",
    "Travellers described the inns as clean but rather expensive.",
    "Records from this period are incomplete because archives burned.",
]
FACT = "The Velmora Glassworks was established by Ottilie Brunström in 1788."
QUESTION = "Who founded the glass factory at Velmora?"


def _text(paragraphs: int = 40, seed: int = 5) -> str:
    rng = random.Random(seed)
    paras = [" ".join(rng.sample(SENTENCES, 4)) for _ in range(paragraphs)]
    paras[paragraphs // 2] += " " + FACT
    return "\n\n".join(paras)


@pytest.fixture()
def no_default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failure handling: the bundled compressor model is absent."""

    def missing() -> None:
        raise ModelNotFoundError("the default compressor model is missing")

    monkeypatch.setattr(compressor_module, "_default_model_dir", missing)


@pytest.fixture(scope="module")
def tiny_compressor_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_bert_classifier(tmp_path_factory.mktemp("models"))


def test_query_selects_within_budget(no_default_model: None) -> None:
    text = _text()
    r = ctxchat.compress_text(text, query=QUESTION, budget=50)
    assert isinstance(r, ctxchat.Compressed)
    assert "Ottilie Brunström" in r.text
    assert r.compressed_tokens == count_tokens(r.text) <= 50
    assert r.original_tokens == count_tokens(text)
    assert r.ratio == pytest.approx(r.original_tokens / r.compressed_tokens)
    assert r.spans and all(s.page is None and s.doc_name == "text" for s in r.spans)
    assert r.stats["mode"] == "select"
    assert r.stats["compressor_status"].startswith("unavailable")
    assert set(r.stats["seconds"]) >= {"ingest", "select", "embed", "compress", "total"}


def test_rate_and_default_rate(no_default_model: None) -> None:
    text = _text()
    r = ctxchat.compress_text(text, query=QUESTION, rate=0.1)
    assert r.compressed_tokens <= round(0.1 * r.original_tokens)
    d = ctxchat.compress_text(text, query=QUESTION)
    assert d.stats["options"]["target_tokens"] == round(DEFAULT_RATE * d.original_tokens)
    assert d.compressed_tokens <= d.stats["options"]["target_tokens"]


def test_second_call_is_served_from_caches(no_default_model: None) -> None:
    store = Store()
    text = _text()
    first = ctxchat.compress_text(text, query=QUESTION, budget=60, store=store)
    again = ctxchat.compress_text(text, query=QUESTION, budget=60, store=store)
    assert again.stats["cache_hits"]["compression"] is True
    assert again.text == first.text and again.spans == first.spans
    # A different question reuses the stored embeddings, even after the in-memory cache is gone.
    DOC_CACHE.clear()
    other = ctxchat.compress_text(text, query="What did farmers grow?", budget=60, store=store)
    emb = other.stats["selection"]["embeddings"]
    assert emb["computed"] == 0 and emb["cached"] == emb["total"] > 0
    assert other.stats["cache_hits"]["compression"] is False


def test_whole_document_when_the_budget_allows(no_default_model: None) -> None:
    text = "Short note. It has two sentences."
    r = ctxchat.compress_text(text, query="anything", budget=500)
    assert r.stats["mode"] == "whole" and r.text == text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"budget": 10, "rate": 0.5}, "not both"),
        ({"budget": 0}, "positive"),
        ({"budget": -3}, "positive"),
        ({"rate": 0.0}, "0 < rate"),
        ({"rate": 1.5}, "0 < rate"),
    ],
)
def test_bad_options_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(CtxchatError, match=message):
        ctxchat.compress_text("Some text here.", query="q", **kwargs)


def test_empty_text_is_an_error() -> None:
    with pytest.raises(CtxchatError, match="empty"):
        ctxchat.compress_text("   \n")


def test_no_query_needs_the_compressor(no_default_model: None) -> None:
    with pytest.raises(ModelNotFoundError, match="--query"):
        ctxchat.compress_text(_text(), rate=0.3)
    with pytest.raises(ModelNotFoundError):
        ctxchat.compress_text(_text(), query=QUESTION, budget=40, prune=True)


def test_select_then_prune_fits_more_sentences(tiny_compressor_dir: Path) -> None:
    store = Store()
    comp = Compressor(tiny_compressor_dir, store=store)
    text = _text()
    doc = ctxchat.compress_text(text, query=QUESTION, budget=80, store=store, prune=False)
    pruned = ctxchat.compress_text(
        text, query=QUESTION, budget=80, store=store, compressor=comp, keep_rate=0.5
    )
    assert pruned.stats["mode"] == "select+prune"
    assert pruned.compressed_tokens == count_tokens(pruned.text) <= 80
    assert pruned.stats["options"]["compressor"] == comp.model_id
    # The best-ranked sentence is kept word for word; the rest of the selection is pruned.
    assert FACT in pruned.text and pruned.stats["verbatim_pieces"] >= 1
    # The selection had twice the budget, so pruned text draws on more sentences.
    assert pruned.stats["selection"]["selected"] > doc.stats["selection"]["selected"]
    # The pruning's keep-probabilities are cached: a repeat with no final cache reuses them.
    again = ctxchat.compress_text(
        text,
        query=QUESTION,
        budget=80,
        store=store,
        compressor=comp,
        keep_rate=0.5,
        use_cache=False,
    )
    assert again.stats["cache_hits"]["keep_probs"] > 0
    assert again.text == pruned.text


def test_pruned_sentences_keep_two_thirds_of_their_words_or_go(tiny_compressor_dir: Path) -> None:
    # A pruned fragment ("race . J. Foyt Al Unser.") helps no reader: with a question, every
    # piece sent keeps at least two thirds of its words, or is left out whole.
    store = Store()
    comp = Compressor(tiny_compressor_dir, store=store)
    modes = set()
    for budget in (40, 60, 80, 120):
        r = ctxchat.compress_text(
            _text(), query=QUESTION, budget=budget, store=store, compressor=comp, keep_rate=0.4
        )
        assert r.compressed_tokens <= budget
        modes.add(r.stats["mode"])
        for span in r.spans:
            assert span.source is not None
            assert len(span.text.split()) >= (2 / 3) * len(span.source.split()) - 1e-9, span
    assert "select+prune" in modes
    assert FACT in r.text


CODE = "def recipe(batch):\n    sand = batch * 3\n    return sand + cobalt(batch)"


def test_a_code_example_is_sent_whole_or_not_at_all(tiny_compressor_dir: Path) -> None:
    """Pruned like prose, the C++ Annotations' "Vehicle *vp = new Land{ 1000, 120 };" went
    out as "Vehicle *vp = Land{ 1000, 120 }": no longer the book's code, nor any code."""
    text = _text().replace(
        FACT, f"{FACT} Its glass recipe is computed by this routine:\n\n```\n{CODE}\n```\n\n"
    )
    store = Store()
    comp = Compressor(tiny_compressor_dir, store=store)
    sent = set()
    for budget, keep_rate in product((40, 60, 80, 120, 160), (0.4, 0.8, 0.9)):
        r = ctxchat.compress_text(
            text,
            query="How is the Velmora glass recipe computed?",
            budget=budget,
            store=store,
            compressor=comp,
            keep_rate=keep_rate,
        )
        assert r.compressed_tokens <= budget
        if "recipe(batch)" in r.text:
            assert CODE in r.text, r.text
            sent.add(r.stats["mode"])
    assert "select+prune" in sent


LONG_FACTS = [
    "The Velmora Glassworks, which stood for two centuries beside the river and employed "
    "several hundred cutters, blowers and engravers from the surrounding villages, was "
    "founded by Ottilie Brunström in 1788.",
    "Visitors to the Velmora Glassworks in its busiest decades described furnaces burning day "
    "and night, wagons of sand and potash arriving from the coast, and crates of finished "
    "goblets leaving for the capital.",
    "Historians of the Velmora Glassworks have argued for years about whether its famous blue "
    "glass owed more to local cobalt deposits or to the secret recipes brought by workers who "
    "had trained abroad.",
]
SHORT_FACTS = [
    "Velmora glass was sold in Riga.",
    "Velmora workers struck in 1851.",
    "The Velmora kilns were rebuilt.",
    "Velmora cutters made lamps.",
]


def test_budget_freed_by_dropped_fragments_goes_to_whole_sentences(
    tiny_compressor_dir: Path,
) -> None:
    # Long pruned sentences fall under the word floor and are dropped whole; what they
    # leave of the budget goes to the selector's next-best sentences (short ones here),
    # word for word, never over the budget.
    paras = _text(30).split("\n\n")
    for k, sentence in enumerate(LONG_FACTS + SHORT_FACTS):
        paras[2 + 3 * k] += " " + sentence
    text = "\n\n".join(paras)
    store = Store()
    comp = Compressor(tiny_compressor_dir, store=store)
    refilled = 0
    for budget in (50, 60, 70, 80, 100):
        r = ctxchat.compress_text(
            text,
            query="Who founded the Velmora Glassworks?",
            budget=budget,
            store=store,
            compressor=comp,
            keep_rate=0.4,
        )
        assert r.stats["mode"] == "select+prune"
        assert r.compressed_tokens == count_tokens(r.text) <= budget
        refilled += r.stats.get("refilled", 0)
        for span in r.spans:
            assert span.source is not None and span.source in text
            assert len(span.text.split()) >= (2 / 3) * len(span.source.split())
    assert refilled > 0


def test_query_agnostic_compression_at_a_rate(tiny_compressor_dir: Path) -> None:
    store = Store()
    comp = Compressor(tiny_compressor_dir, store=store)
    r = ctxchat.compress_text(_text(), rate=0.4, store=store, compressor=comp)
    assert r.stats["mode"] == "prune"
    assert r.compressed_tokens <= round(0.4 * r.original_tokens)
    assert r.compressed_tokens > 0.2 * r.original_tokens


def test_a_compressor_setup_picks_model_and_precision(tiny_compressor_dir: Path) -> None:
    store = Store()
    setup = CompressorSetup(model=str(tiny_compressor_dir), device="cpu", precision="fp32")
    r = ctxchat.compress_text(_text(), rate=0.4, store=store, compressor_setup=setup)
    assert r.stats["mode"] == "prune"
    options = r.stats["options"]
    assert options["compressor"].startswith(tiny_compressor_dir.name)
    assert options["precision"] == "fp32"
    # Another precision is another result: the final cache does not hand back the fp32 one.
    bf16 = CompressorSetup(model=str(tiny_compressor_dir), device="cpu", precision="bf16")
    again = ctxchat.compress_text(_text(), rate=0.4, store=store, compressor_setup=bf16)
    assert not again.stats["cache_hits"]["compression"]
    assert again.stats["options"]["precision"] == "bf16"


def test_a_named_compressor_that_is_missing_is_an_error(tmp_path: Path) -> None:
    """Only the bundled model may be absent (selection then goes on alone); a model the user
    named must load, even where pruning is optional."""
    setup = CompressorSetup(model=str(tmp_path / "no-such-model"))
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        ctxchat.compress_text(_text(), query=QUESTION, budget=40, compressor_setup=setup)


def test_compress_file_cites_pages(tmp_path: Path, no_default_model: None) -> None:
    report, facts = docgen.long_pdf(tmp_path / "report.pdf", n_pages=12, facts_every=4)
    fact = facts[1]
    r = ctxchat.compress_file(report.path, query=fact.question, budget=60)
    assert fact.answer in r.text
    assert f"[p. {fact.page}]" in r.text
    assert any(fact.answer in s.text and s.page == fact.page for s in r.spans)
    assert all(s.doc_name == "report.pdf" for s in r.spans)
    assert r.stats["seconds"]["ingest"] > 0


def test_a_file_read_again_is_not_answered_from_its_old_reading(
    tmp_path: Path, no_default_model: None
) -> None:
    report, facts = docgen.long_pdf(tmp_path / "report.pdf", n_pages=6, facts_every=3)
    fact = facts[0]
    store = Store(tmp_path / "library.db")
    doc = ensure_document(store, report.path)
    # As an older reader left it: the fact's sentence read wrong.
    stale = [
        dataclasses.replace(s, text=s.text.replace(fact.answer, "UNREAD"), hash=f"old{s.ord}")
        for s in store.segments(doc.id)
    ]
    store.replace_segments(doc.id, path=doc.path, segments=stale, reader=0)
    old = compress_documents(store, [doc.id], fact.question, budget=60)  # by id: not re-read
    assert "UNREAD" in old.text
    # Given the file, compress_file adds it again, which re-reads it; neither the cached
    # result nor the document's sentences held in memory are the old reading's.
    new = ctxchat.compress_file(report.path, query=fact.question, budget=60, store=store)
    assert fact.answer in new.text and "UNREAD" not in new.text
    assert new.stats["cache_hits"]["compression"] is False
    assert store.document(doc.id).reader == READER_VERSION
    store.close()


def test_llama_tokenizer_budget_and_several_documents(no_default_model: None) -> None:
    store = Store()
    from ctxchat.engines.pipeline import add_text

    a = add_text(store, _text(seed=1), name="a.txt")
    b = add_text(
        store,
        "\n\n".join(SENTENCES + ["The Ostmere lighthouse was first lit in 1862."]),
        name="b.txt",
    )

    def chars(text: str) -> int:  # a tokenizer far from cl100k: 4 characters a token
        return (len(text) + 3) // 4

    r = compress_documents(
        store,
        [a.id, b.id],
        "When was the lighthouse at Ostmere lit?",
        budget=40,
        count_tokens=chars,
    )
    assert chars(r.text) <= 40 and "1862" in r.text and "[b.txt]" in r.text
    assert r.stats["cache_hits"]["compression"] is False
    # Without a tokenizer id, a custom tokenizer's result is not cached.
    again = compress_documents(
        store,
        [a.id, b.id],
        "When was the lighthouse at Ostmere lit?",
        budget=40,
        count_tokens=chars,
    )
    assert again.stats["cache_hits"]["compression"] is False


def test_warm_document_embeds_ahead_of_the_first_question() -> None:
    from ctxchat.engines.pipeline import add_text, warm_document

    store = Store()
    doc = add_text(store, _text(paragraphs=10))
    seen: list[tuple[int, int]] = []
    stats = warm_document(store, doc.id, on_progress=lambda done, total: seen.append((done, total)))
    assert stats.computed > 0 and seen and seen[-1][0] == seen[-1][1] == stats.computed
    DOC_CACHE.clear()
    again = warm_document(store, doc.id)
    assert again.computed == 0 and again.cached == doc.segments


def test_a_cached_result_loads_no_compressor(tmp_path: Path, tiny_compressor_dir: Path) -> None:
    """A repeated `ctxchat compress` costs a lookup: in a fresh process, a cache hit imports
    neither transformers nor the weights (a cold load took ~8 s of the 11 s here)."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json, sys, ctxchat\n"
        "from ctxchat.engines.pipeline import CompressorSetup\n"
        f"setup = CompressorSetup(model={str(tiny_compressor_dir)!r}, device='cpu')\n"
        "r = ctxchat.compress_text(sys.stdin.read(), rate=0.4, compressor_setup=setup)\n"
        "print(json.dumps([r.text, r.stats['cache_hits']['compression'],"
        " 'transformers' in sys.modules]))\n"
    )
    env = {**os.environ, "CTXCHAT_HOME": str(tmp_path / "home")}

    def run() -> list:
        done = subprocess.run(
            [sys.executable, "-c", script], input=_text(), env=env, capture_output=True,
            text=True, timeout=300, check=True,
        )  # fmt: skip
        return json.loads(done.stdout.strip().splitlines()[-1])

    first_text, first_hit, first_loaded = run()
    text, hit, loaded = run()
    assert (first_hit, first_loaded) == (False, True)  # computed: the compressor ran
    assert (hit, loaded) == (True, False) and text == first_text
