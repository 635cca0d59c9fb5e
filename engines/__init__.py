"""ctxchat engines: ingest, segment, store, selector, compressor, llm, pipeline.

Nothing here imports ctxchat.app; the TUI and the CLI sit on top of these modules.
"""
