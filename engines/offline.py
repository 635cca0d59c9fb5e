"""No network at run time: the telemetry switches of libraries ctxchat loads, set off.

PyMuPDF 2.0 imports pymupdf4llm and its layout plugin when they are installed, and they
import ONNX Runtime, whose Linux wheels start a telemetry client (1DS/OneCollector) that
resolves mobile.events.data.microsoft.com a few seconds after loading - a DNS query on
every `compress`. ONNX Runtime reads ORT_DISABLE_TELEMETRY when it loads, so this must run
before anything imports pymupdf; ctxchat.engines runs it on import. A value the user set
is left alone.

The two plugins also cost every command time: pymupdf.layout builds its ONNX page-layout
model on import, pymupdf4llm loads ONNX Runtime, psutil and more - about 1.2 s and 0.6 CPU s
together, for code ctxchat never calls (its own layout and table code read the text
geometry). So they are kept from loading unless the user asks for them with
CTXCHAT_PYMUPDF_LAYOUT=1; PyMuPDF imports both inside try/except ImportError.
"""

from __future__ import annotations

import os
import sys

TELEMETRY_OFF = {
    "ORT_DISABLE_TELEMETRY": "1",  # ONNX Runtime (via pymupdf4llm / pymupdf.layout)
    "HF_HUB_DISABLE_TELEMETRY": "1",  # huggingface_hub (transformers)
}
PYMUPDF_PLUGINS = ("pymupdf.layout", "pymupdf4llm")
LAYOUT_OPT_IN = "CTXCHAT_PYMUPDF_LAYOUT"


def telemetry_off() -> None:
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)


def skip_layout_plugin() -> None:
    """Keep PyMuPDF's ONNX plugins from loading (a None entry in sys.modules makes an import
    fail fast), and its "consider pymupdf_layout" hint quiet."""
    if os.environ.get(LAYOUT_OPT_IN) == "1" or "pymupdf" in sys.modules:
        return
    for name in PYMUPDF_PLUGINS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    os.environ.setdefault("PYMUPDF_SUGGEST_LAYOUT_ANALYZER", "0")


def allow_layout_plugin() -> None:
    """Undo skip_layout_plugin, for code that imports pymupdf4llm itself (a benchmark)."""
    for name in PYMUPDF_PLUGINS:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
