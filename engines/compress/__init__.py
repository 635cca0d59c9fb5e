"""Word-level compression: an LLMLingua-2 style token classifier keeps or drops words.

Owns the encoder (loading, precision, batching), keep probabilities and their cache, thresholds
for a rate or a token target, and the shipped model bundle. Imports store/ only; never imports
training/. Public entry: `Compressor` / `default_compressor` (compress.compressor).
"""
