"""Fine-tune the top layers of all-MiniLM-L6-v2 plus a keep/drop head on teacher targets.

Only the top `train_layers` encoder layers and the classifier learn; the embeddings and lower
layers stay as the installed package ships them, so the result can ship as a small delta.
Targets are soft (each word's keep percentile under the teacher): the student learns the
teacher's whole ranking, which any rate then thresholds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ctxchat.engines.training.student import Chunk, pad_batch, word_chunks, word_keep_probs

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

ID2LABEL = {0: "drop", 1: "keep"}
LABEL2ID = {"drop": 0, "keep": 1}


@dataclass
class LabelledDoc:
    """A document with its words and the teacher's soft keep target for each word."""

    title: str
    text: str
    spans: list[tuple[int, int]]
    targets: np.ndarray
    source: str = ""


@dataclass
class TrainSettings:
    train_layers: int = 2
    max_length: int = 128
    batch_size: int = 16
    steps: int = 250
    lr: float = 2e-4
    warmup: float = 0.1
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 2
    log_every: int = 25
    extra: dict = field(default_factory=dict)


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def trainable_prefixes(n_layers: int, train_layers: int) -> list[str]:
    """State-dict key prefixes of the parameters that train (and ship in the delta)."""
    top = range(n_layers - train_layers, n_layers)
    return [f"bert.encoder.layer.{i}." for i in top] + ["classifier."]


def load_student(base_dir: Path, train_layers: int):
    """MiniLM with a fresh keep/drop head; everything below the top layers frozen."""
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    tokenizer.model_max_length = 10**6  # we chunk ourselves; silence the length warning
    model = AutoModelForTokenClassification.from_pretrained(
        str(base_dir), num_labels=2, id2label=ID2LABEL, label2id=LABEL2ID
    )
    prefixes = trainable_prefixes(model.config.num_hidden_layers, train_layers)
    for name, param in model.named_parameters():
        param.requires_grad = name.startswith(tuple(prefixes))
    return model, tokenizer


def _training_chunks(tokenizer, docs: list[LabelledDoc], max_length: int):
    items: list[tuple[Chunk, np.ndarray]] = []
    for doc in docs:
        for chunk in word_chunks(tokenizer, doc.text, doc.spans, max_length):
            items.append((chunk, doc.targets[np.asarray(chunk.word_index)]))
    return items


def train_student(
    docs: list[LabelledDoc],
    base_dir: Path,
    out_dir: Path,
    settings: TrainSettings,
    log: Callable[[str], None] = print,
) -> dict:
    """Train, save a full HF token-classification folder to out_dir, return training stats."""
    import torch

    seed_everything(settings.seed)
    torch.set_num_threads(settings.threads)
    model, tokenizer = load_student(base_dir, settings.train_layers)
    items = _training_chunks(tokenizer, docs, settings.max_length)
    if not items:
        raise ValueError("no training text")
    rng = random.Random(settings.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer, scheduler = _optimizer(params, settings)
    _train_mode(model, settings.train_layers)

    order: list[int] = []
    losses: list[float] = []
    started = time.perf_counter()
    for step in range(settings.steps):
        batch = _next_batch(items, order, rng, settings.batch_size)
        loss = _batch_loss(model, tokenizer, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
        if (step + 1) % settings.log_every == 0 or step + 1 == settings.steps:
            recent = np.mean(losses[-settings.log_every :])
            log(
                f"step {step + 1}/{settings.steps} loss {recent:.4f} ({time.perf_counter() - started:.0f}s)"
            )

    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
    return {
        "train_chunks": len(items),
        "train_seconds": round(time.perf_counter() - started, 1),
        "final_loss": round(float(np.mean(losses[-settings.log_every :])), 4),
        "trainable_parameters": int(sum(p.numel() for p in params)),
    }


def _optimizer(
    params: list, settings: TrainSettings
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """AdamW with a linear warmup, then a linear decay to zero at the last step."""
    import torch

    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    warmup = max(1, int(settings.steps * settings.warmup))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (settings.steps - step) / max(1, settings.steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)


def _train_mode(model: PreTrainedModel, train_layers: int) -> None:
    model.train()
    # Frozen layers run without dropout: their noise would only blur the features.
    model.bert.embeddings.eval()
    for layer in model.bert.encoder.layer[: model.config.num_hidden_layers - train_layers]:
        layer.eval()


def _next_batch(
    items: list[tuple[Chunk, np.ndarray]], order: list[int], rng: random.Random, batch_size: int
) -> list:
    """The next batch_size items of a reshuffled pass over them (order is consumed in place)."""
    if len(order) < batch_size:
        fresh = list(range(len(items)))
        rng.shuffle(fresh)
        order.extend(fresh)
    batch = [items[i] for i in order[:batch_size]]
    del order[:batch_size]
    return batch


def _batch_loss(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    batch: list[tuple[Chunk, np.ndarray]],
) -> torch.Tensor:
    """Cross-entropy of the model's keep/drop against the soft targets, over real pieces."""
    import torch

    ids, mask = pad_batch(tokenizer, [c for c, _ in batch])
    target = torch.zeros(ids.shape, dtype=torch.float32)
    valid = torch.zeros(ids.shape, dtype=torch.bool)
    for row, (chunk, t) in enumerate(batch):
        n = len(chunk.input_ids)
        target[row, 1 : 1 + n] = torch.from_numpy(t.astype(np.float32))
        valid[row, 1 : 1 + n] = True
    logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits, dim=-1)
    # Cross-entropy against the soft target distribution (drop: 1 - t, keep: t).
    per_piece = -(target * logp[..., 1] + (1 - target) * logp[..., 0])
    return per_piece[valid].mean()


def evaluate_student(model, tokenizer, docs: list[LabelledDoc], max_length: int) -> dict:
    """Word-level agreement with the teacher on held-out documents."""
    from ctxchat.engines.training.labels import percentile_ranks

    started = time.perf_counter()
    probs = word_keep_probs(
        model, tokenizer, [d.text for d in docs], [d.spans for d in docs], max_length
    )
    seconds = time.perf_counter() - started
    tp = fp = fn = correct = total = 0
    spearman: list[float] = []
    overlap = {0.5: [], 0.33: []}
    for doc, p in zip(docs, probs, strict=True):
        teacher_keep = doc.targets >= 0.5
        student_keep = p >= 0.5
        tp += int(np.sum(teacher_keep & student_keep))
        fp += int(np.sum(~teacher_keep & student_keep))
        fn += int(np.sum(teacher_keep & ~student_keep))
        correct += int(np.sum(teacher_keep == student_keep))
        total += len(p)
        if len(p) > 2:
            rs, rt = percentile_ranks(p), percentile_ranks(doc.targets)
            if rs.std() > 0 and rt.std() > 0:
                spearman.append(float(np.corrcoef(rs, rt)[0, 1]))
            for rate in overlap:
                k = max(1, int(round(rate * len(p))))
                top_s = set(np.argsort(-p, kind="stable")[:k].tolist())
                top_t = set(np.argsort(-doc.targets, kind="stable")[:k].tolist())
                overlap[rate].append(len(top_s & top_t) / k)
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    return {
        "words": total,
        "accuracy": round(correct / max(total, 1), 4),
        "keep_precision": round(precision, 4),
        "keep_recall": round(recall, 4),
        "keep_f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4),
        "spearman_vs_teacher": round(float(np.mean(spearman)), 4) if spearman else None,
        "top_overlap_rate_0.5": round(float(np.mean(overlap[0.5])), 4) if overlap[0.5] else None,
        "top_overlap_rate_0.33": round(float(np.mean(overlap[0.33])), 4) if overlap[0.33] else None,
        "words_per_second": round(total / max(seconds, 1e-9), 1),
    }
