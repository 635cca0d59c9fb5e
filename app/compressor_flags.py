"""--compressor, --device and --precision for the commands that prune words (compress, ask).

A flag wins over the saved setting (config.toml, the settings screen), which wins over the
default: the bundled model, the best device, the precision `auto` picks there.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ctxchat.app.config import DEVICES, PRECISIONS, Config

if TYPE_CHECKING:
    from ctxchat.engines.pipeline import CompressorSetup


def add_compressor_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("word compressor")
    group.add_argument(
        "--compressor",
        metavar="MODEL",
        help="a token-classification model folder, or a hub id fetched with "
        "`ctxchat models pull` (default: the bundled model)",
    )
    group.add_argument(
        "--device", choices=DEVICES, help="where the compressor runs (default: auto)"
    )
    group.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="its number format: auto (fp16 on CUDA, bf16 on CPUs with bf16 units, else "
        "fp32), or int8 (CPU: faster, ~1%% of kept words differ from fp32)",
    )


def compressor_setup(config: Config, args: argparse.Namespace | None = None) -> CompressorSetup:
    """The CompressorSetup the saved settings describe, with any flags in args over them."""
    from ctxchat.app.ask_settings import compressor_setup as from_settings

    return from_settings(
        config,
        model=getattr(args, "compressor", None),
        device=getattr(args, "device", None),
        precision=getattr(args, "precision", None),
    )
