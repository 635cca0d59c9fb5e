"""ctxchat engines: ingest, segment, store, selector, compressor, llm, pipeline.

Nothing here imports ctxchat.app; the TUI and the CLI sit on top of these modules.
"""

from ctxchat.engines.offline import telemetry_off

# Before any engine imports pymupdf (and through it ONNX Runtime): see offline.py.
telemetry_off()
