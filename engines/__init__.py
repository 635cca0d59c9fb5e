"""ctxchat engines: the pipeline, one subpackage per stage, in the order data flows.

    store/     SQLite: documents, segments, every cached result (the bottom layer)
    ingest/    files -> pages (PyMuPDF, OCR, tables, headings) -> segments -> store
    select/    question-aware sentence ranking and the budgeted pick; background indexing
    compress/  the word compressor (LLMLingua-2 style token classifier) and its model bundle
    pipeline   select, then prune: the public compress_text / compress_file
    answer/    chat models, prompt layout, the one ask flow (conversation), evidence, export
    training/  builds the compressor offline; nothing at run time imports it

A stage imports only the stages above it in this list (plus the shared modules here: errors,
paths, tokens, models, results, int8, hub, offline, terminal_text). Nothing here imports
ctxchat.app; the TUI, the CLI and the Python API sit on top.
"""

from ctxchat.engines.offline import skip_layout_plugin, telemetry_off

# Before any engine imports pymupdf (and through it ONNX Runtime): see offline.py.
telemetry_off()
skip_layout_plugin()
