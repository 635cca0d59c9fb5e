"""The app leaves its chat model to the garbage collector when it exits (the process ends
there). Across many apps in one test process, a model of an earlier test could be freed in
the middle of a later one, on the main thread while a worker thread loads the next model,
and llama.cpp does not take both at once (a segmentation fault in CI, 2026-12-03). Each
test's leftovers are collected when it ends, before the next one starts."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def collect_leftover_models() -> Iterator[None]:
    yield
    gc.collect()
