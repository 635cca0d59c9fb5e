"""No network at run time: the telemetry switches of libraries ctxchat loads, set off.

PyMuPDF 2.0 imports pymupdf4llm and its layout plugin when they are installed, and they
import ONNX Runtime, whose Linux wheels start a telemetry client (1DS/OneCollector) that
resolves mobile.events.data.microsoft.com a few seconds after loading - a DNS query on
every `compress`. ONNX Runtime reads ORT_DISABLE_TELEMETRY when it loads, so this must run
before anything imports pymupdf; ctxchat.engines runs it on import. A value the user set
is left alone.
"""

from __future__ import annotations

import os

TELEMETRY_OFF = {
    "ORT_DISABLE_TELEMETRY": "1",  # ONNX Runtime (via pymupdf4llm / pymupdf.layout)
    "HF_HUB_DISABLE_TELEMETRY": "1",  # huggingface_hub (transformers)
}


def telemetry_off() -> None:
    for name, value in TELEMETRY_OFF.items():
        os.environ.setdefault(name, value)
