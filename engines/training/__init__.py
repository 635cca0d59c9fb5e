"""Training ctxchat's default token-classification compressor, offline and reproducibly."""
