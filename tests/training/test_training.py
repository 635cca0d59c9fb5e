"""engines/training: teacher labels, a tiny real training run, the shipped bundle, the benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ctxchat.engines.compress import bundle
from ctxchat.engines.errors import ModelNotFoundError
from ctxchat.engines.models import minilm_dir
from ctxchat.engines.training import devset, labels
from ctxchat.engines.training.corpus import stdlib_documents, training_corpus
from ctxchat.engines.training.generated import generate_documents
from ctxchat.engines.training.recipe import split_corpus
from ctxchat.engines.training.student import word_keep_probs
from ctxchat.engines.training.survival import (
    BenchDoc,
    Cloze,
    keep_mask,
    survival,
    survival_of_texts,
)
from ctxchat.engines.training.train import LabelledDoc, TrainSettings, train_student
from ctxchat.engines.training.words import word_spans

SAMPLE = (
    "In 1987 the committee met in Geneva with Marie Duval and approved a budget of 4,200 "
    "francs for the new observatory, which was, of course, a rather large sum at the time."
)


def _words(text: str) -> list[str]:
    return [text[a:b] for a, b in word_spans(text)]


def _idf_for(words: list[str]) -> labels.IdfTable:
    # A small background corpus in which the function words are common and the rest is not.
    background = [["the", "a", "of", "and", "in", "was", "for", "with", "which", "at"]] * 20
    return labels.IdfTable([*background, words])


def test_rules_keep_numbers_and_names_and_drop_stop_words() -> None:
    words = _words(SAMPLE)
    flags = dict(zip(words, labels.rule_flags(words), strict=True))
    assert flags["1987"] == 1 and flags["4,200"] == 1
    assert flags["Geneva"] == 1 and flags["Duval"] == 1
    assert flags["the"] == -1 and flags["of"] == -1 and flags["which"] == -1
    assert flags["In"] == -1  # sentence-initial capital is not a name
    assert flags["observatory,"] == 0  # left to surprisal and IDF
    assert labels.rule_flags(["is", "not", "isn't"]).tolist() == [-1, 1, 1]  # negations kept


def test_phrase_rules_keep_whole_names_and_quoted_titles() -> None:
    text = (
        "Scott Derrickson directed it. She served as Chief of Protocol of the United States. "
        'The film "Kiss and Tell" starred Shirley Temple, and the Bank of England agreed.'
    )
    words = text.split()
    plain = labels.rule_flags(words)
    flags = labels.rule_flags(words, phrases=True)
    at = {w: i for i, w in reversed(list(enumerate(words)))}
    assert plain[at["Scott"]] == 0  # sentence-initial: the plain rules see no name
    assert flags[at["Scott"]] == 1 and flags[at["Derrickson"]] == 1
    assert flags[words.index("of")] == 1  # "Chief of Protocol"
    assert flags[words.index("of", words.index("of") + 1)] == -1  # "Protocol of the United"
    assert flags[at['"Kiss']] == flags[at["and"]] == flags[at['Tell"']] == 1
    assert flags[words.index("and", at['Tell"'])] == -1  # "Temple, and the": a clause
    assert flags[words.index("of", at["Bank"])] == 1  # "Bank of England"


def test_wikipedia_training_prose_is_disjoint_from_the_prose_benchmark() -> None:
    from benchmarks.prose_qa_data import load_prose_qa
    from ctxchat.engines.training.prose_corpus import wikipedia_documents

    docs = wikipedia_documents()
    assert len(docs) > 50 and all(len(d.text.split()) >= 8 for d in docs)
    bench = load_prose_qa()
    titles = {t for q in bench for t in q.titles}
    articles = {d.title.rsplit(" (", 1)[0] for d in docs}
    assert articles and not articles & titles
    # No paragraph of the benchmark appears in the training text.
    train_text = "\n".join(d.text for d in docs)
    assert not any(p[:200] in train_text for q in bench for p in q.text.split("\n\n"))


def test_teacher_labels_keep_numbers_drop_stop_words() -> None:
    words = _words(SAMPLE)
    idf = _idf_for(words)(words)
    surprisal = np.linspace(1.0, 5.0, len(words)).astype(np.float32)
    scores = labels.teacher_scores(words, surprisal, idf, "surprisal+idf+rules")
    kept = dict(zip(words, labels.keep_labels(scores), strict=True))
    assert kept["1987"] == kept["4,200"] == kept["Geneva"] == 1
    assert kept["the"] == kept["of"] == kept["a"] == 0
    targets = labels.keep_targets(scores)
    assert targets.min() >= 0.0 and targets.max() == pytest.approx(1.0)


def test_percentile_ranks_share_ties() -> None:
    ranks = labels.percentile_ranks(np.array([3.0, 1.0, 3.0, 2.0]))
    assert ranks.tolist() == pytest.approx([5 / 6, 0.0, 5 / 6, 1 / 3])


@pytest.mark.slow
def test_llama_surprisal_scores_every_word() -> None:
    from ctxchat.engines.training.teacher import SurprisalModel

    model = SurprisalModel(n_ctx=64, n_threads=1)
    text = "The cat sat on the mat. The cat sat on the quorvantine."
    spans = word_spans(text)
    scores = model.word_surprisal(text, spans)
    assert scores.shape == (len(spans),) and np.all(scores > 0)
    # Repeated words are predictable; an invented word is not.
    assert scores[-1] > scores[7]  # "quorvantine." vs the second "cat"
    # Windows overlap: a text longer than the context is scored everywhere.
    long_text = " ".join(["Numbers like 42 and names like Oslo appear here."] * 12)
    long_scores = model.word_surprisal(long_text, word_spans(long_text))
    assert np.all(long_scores > 0)


def test_generated_documents_are_deterministic_with_answers_in_text() -> None:
    a = generate_documents(3, seed=11)
    b = generate_documents(3, seed=11)
    assert [d.text for d in a] == [d.text for d in b]
    assert a[0].text != generate_documents(1, seed=12)[0].text
    for doc in a:
        for fact in doc.facts:
            assert fact.sentence in doc.text
            for answer, kind in fact.answers:
                assert answer in fact.sentence and kind in {"number", "name", "term"}


def test_stdlib_corpus_split_is_disjoint() -> None:
    train = stdlib_documents(heldout=False, max_words=3000)
    held = stdlib_documents(heldout=True, max_words=3000)
    assert train and held
    assert not {d.title for d in train} & {d.title for d in held}
    assert all(">>>" not in d.text for d in train + held)


def test_keep_mask_respects_budget_and_survival_counts_answers() -> None:
    doc = BenchDoc(
        "t", SAMPLE, "generated", [Cloze("", "1987", "number"), Cloze("", "Geneva", "name")]
    )
    scores = np.array([1.0 if w in ("1987", "Geneva") else 0.0 for w in doc.words])
    mask = keep_mask(scores, doc.token_counts, 0.33)
    assert doc.token_counts[mask].sum() <= 0.33 * doc.token_counts.sum()
    result = survival([doc], lambda d: scores, rates=(0.33,))
    assert result["0.33"]["all"] == 1.0
    nothing = survival([doc], lambda d: -scores, rates=(0.1,))
    assert nothing["0.1"]["all"] == 0.0
    # Text-returning compressors: an answer inside a longer token ("19870") does not count.
    texts = survival_of_texts([doc], lambda d, rate: "met 19870 in Geneva.", rates=(0.5,))
    assert texts["0.5"]["number"] == 0.0 and texts["0.5"]["name"] == 1.0


@pytest.mark.slow
def test_tiny_training_run_writes_a_loadable_model_and_delta(tmp_path: Path) -> None:
    from transformers import AutoModelForTokenClassification

    texts = [d.text for d in generate_documents(4, seed=3)]
    docs = []
    for text in texts:
        words = _words(text)
        scores = labels.teacher_scores(
            words, np.zeros(len(words)), _idf_for(words)(words), "idf+rules"
        )
        docs.append(LabelledDoc("t", text, word_spans(text), labels.keep_targets(scores)))
    settings = TrainSettings(steps=3, max_length=32, batch_size=4, threads=1, log_every=1)
    full = tmp_path / "full"
    stats = train_student(docs, minilm_dir(), full, settings, log=lambda m: None)
    assert stats["train_chunks"] > 0 and np.isfinite(stats["final_loss"])

    model = AutoModelForTokenClassification.from_pretrained(str(full))
    assert model.config.id2label == {0: "drop", 1: "keep"}

    prefixes = ["bert.encoder.layer.4.", "bert.encoder.layer.5.", "classifier."]
    out = tmp_path / "bundle"
    bundle.export_delta(full, out, prefixes, minilm_dir(), window=settings.max_length)
    assert (out / bundle.DELTA_FILE).stat().st_size < 10 * 2**20
    # The compressor will run the model on windows as long as its training chunks.
    assert json.loads((out / bundle.CONFIG_FILE).read_text())["ctxchat_window"] == 32
    rebuilt = bundle.materialise(out, tmp_path / "models")
    assert bundle.materialise(out, tmp_path / "models") == rebuilt  # built once
    again = AutoModelForTokenClassification.from_pretrained(str(rebuilt))
    trained, shipped = model.state_dict(), again.state_dict()
    for key in ("classifier.weight", "bert.encoder.layer.5.output.dense.weight"):
        assert np.allclose(trained[key].numpy(), shipped[key].numpy(), atol=1e-2)
    # Frozen layers come from the installed MiniLM unchanged.
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert np.array_equal(trained[key].numpy(), shipped[key].numpy())


@pytest.mark.slow
def test_default_model_dir_loads_and_keeps_numbers_and_names(ctxchat_home: Path) -> None:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    path = bundle.default_model_dir()
    assert path.is_relative_to(ctxchat_home)  # built in the data dir, not in assets/
    model = AutoModelForTokenClassification.from_pretrained(str(path))
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    config = json.loads((path / "config.json").read_text())
    assert config["id2label"] == {"0": "drop", "1": "keep"}
    assert config["ctxchat_window"] == 128  # the recipe's training chunks
    assert bundle.default_model_dir() == path

    words = _words(SAMPLE)
    keep = word_keep_probs(model, tokenizer, [SAMPLE], [word_spans(SAMPLE)])[0]
    probs = dict(zip(words, keep, strict=True))
    informative = np.mean([probs[w] for w in ("1987", "4,200", "Geneva", "Duval")])
    function = np.mean([probs[w] for w in ("the", "of", "a", "with", "which")])
    assert informative > function + 0.2


def test_default_model_dir_without_bundle_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "bundle_dir", lambda: tmp_path / "compressor")
    with pytest.raises(ModelNotFoundError, match="default compressor model is missing"):
        bundle.default_model_dir()


@pytest.mark.slow
def test_a_new_build_removes_builds_of_older_bundles_only(tmp_path: Path) -> None:
    root = tmp_path / "models"
    info = json.loads((bundle.bundle_dir() / bundle.BUNDLE_FILE).read_text())
    name = info.get("name", bundle.MODEL_NAME)
    old_build = root / f"{name}-0123456789ab"
    pulled = root / f"{name}-pulled"  # same prefix, but not built by ctxchat: never removed
    for folder in (old_build, pulled):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
    (old_build / bundle.BUNDLE_MARK).write_text("old")

    built = bundle.materialise(bundle.bundle_dir(), root)

    assert (built / bundle.BUNDLE_MARK).exists()
    assert not old_build.exists() and pulled.exists()


def test_dev_set_is_built_from_validation_and_dev_seed_documents_only() -> None:
    docs = training_corpus(stdlib_words=1500, generated_docs=20, seed=1)
    train, val = split_corpus(docs, 0.1)
    idf = labels.IdfTable(_words(d.text) for d in train)
    dev = devset.dev_bench(val, idf, generated_docs=20, corpus_seed=1, extra_generated=3)
    titles = {d.title for d in dev}
    assert not titles & {d.title for d in train}  # never a training document
    assert {d.title for d in val if d.source == "generated"} <= titles
    assert sum(t.startswith(f"generated-{devset.DEV_SEED}-") for t in titles) == 3
    assert not any(t.startswith("generated-7000-") for t in titles)  # never the benchmark's
    for doc in dev:
        assert doc.items and all(item.answer in doc.text for item in doc.items)
        doc.extra["idf"] = idf(doc.words)
        doc.extra["surprisal"] = np.zeros(len(doc.words), dtype=np.float32)
    grid = devset.grid_survival(dev)
    assert list(grid) == list(devset.DEV_GRID)
    questions = sum(len(d.items) for d in dev)
    assert grid["idf+rules"]["0.5"]["questions"] == questions
    # Rules and IDF keep the answers far better than chance would (about half at rate 0.5).
    assert grid["idf+rules"]["0.5"]["all"] > 0.8


def test_shipped_model_meets_the_quality_bar_recorded_in_its_metrics() -> None:
    metrics = json.loads((bundle.bundle_dir() / "metrics.json").read_text())
    teacher = metrics["teacher"]
    assert teacher["variant"] == labels.DEFAULT_VARIANT
    assert labels.uses_lm(teacher["variant"])  # distilled from the LM teacher, not a lookup
    assert teacher["variant"] in teacher["dev_grid"]["grid"]  # chosen on the dev set
    qa = metrics["answer_survival"]["all"]
    student, own_teacher = qa["trained model"], qa[f"teacher: {teacher['variant']}"]
    for rate in ("0.5", "0.33"):
        got = student[rate]["all"]
        assert got > qa["random"][rate]["all"] + 0.2
        assert got > qa["stop words"][rate]["all"] + 0.1
        assert got >= own_teacher[rate]["all"] - 0.06  # close to its teacher
    speed = metrics["bench"]
    assert speed["student_speedup"] >= 10  # much faster than labelling with the teacher
    assert speed["student_words_per_second"] > 10 * teacher["labelling_words_per_second"]
