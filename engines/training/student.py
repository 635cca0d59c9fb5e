"""The student's view of text: word-aligned chunks of WordPiece tokens, and word keep-probabilities.

Every piece of a word gets the word's target; a word's probability is the mean of its pieces'
keep-probabilities (LLMLingua-2's default "mean" reduction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Chunk:
    """One encoder input: piece ids (without CLS/SEP) and the word each piece belongs to."""

    input_ids: list[int]
    word_index: list[int]


def word_chunks(tokenizer, text: str, spans: list[tuple[int, int]], max_length: int) -> list[Chunk]:
    """Split a text into chunks of at most max_length - 2 pieces, cutting only between words."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    word_of_char = np.full(len(text) + 1, -1, dtype=np.int64)
    for i, (a, b) in enumerate(spans):
        word_of_char[a:b] = i
    limit = max_length - 2
    chunks: list[Chunk] = []
    ids: list[int] = []
    owners: list[int] = []
    # Group pieces by word, then pack whole words into chunks.
    groups: list[tuple[int, list[int]]] = []
    for piece, (start, _end) in zip(enc["input_ids"], enc["offset_mapping"], strict=True):
        w = int(word_of_char[start])
        if w < 0:
            continue
        if groups and groups[-1][0] == w:
            groups[-1][1].append(piece)
        else:
            groups.append((w, [piece]))
    for w, pieces in groups:
        pieces = pieces[:limit]  # a pathological word longer than a chunk is cut
        if len(ids) + len(pieces) > limit:
            chunks.append(Chunk(ids, owners))
            ids, owners = [], []
        ids.extend(pieces)
        owners.extend([w] * len(pieces))
    if ids:
        chunks.append(Chunk(ids, owners))
    return chunks


def pad_batch(tokenizer, chunks: list[Chunk]):
    """input_ids and attention_mask tensors for chunks, framed with CLS/SEP, padded to the longest."""
    import torch

    width = max(len(c.input_ids) for c in chunks) + 2
    ids = torch.full((len(chunks), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(chunks), width), dtype=torch.long)
    for row, c in enumerate(chunks):
        seq = [tokenizer.cls_token_id, *c.input_ids, tokenizer.sep_token_id]
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return ids, mask


def word_keep_probs(
    model,
    tokenizer,
    texts: list[str],
    spans: list[list[tuple[int, int]]],
    max_length: int = 256,
    batch_size: int = 32,
) -> list[np.ndarray]:
    """Keep-probability of every word of every text (label 1 = keep)."""
    import torch

    jobs: list[tuple[int, Chunk]] = []
    for t, (text, sp) in enumerate(zip(texts, spans, strict=True)):
        jobs.extend((t, c) for c in word_chunks(tokenizer, text, sp, max_length))
    sums = [np.zeros(len(sp), dtype=np.float64) for sp in spans]
    counts = [np.zeros(len(sp), dtype=np.float64) for sp in spans]
    # Similar lengths together: less padding.
    jobs.sort(key=lambda job: len(job[1].input_ids))
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(jobs), batch_size):
            batch = jobs[i : i + batch_size]
            ids, mask = pad_batch(tokenizer, [c for _, c in batch])
            probs = torch.softmax(model(input_ids=ids, attention_mask=mask).logits.float(), -1)
            keep = probs[..., 1].numpy()
            for row, (t, c) in enumerate(batch):
                np.add.at(sums[t], c.word_index, keep[row, 1 : 1 + len(c.input_ids)])
                np.add.at(counts[t], c.word_index, 1.0)
    return [(s / np.maximum(c, 1)).astype(np.float32) for s, c in zip(sums, counts, strict=True)]
