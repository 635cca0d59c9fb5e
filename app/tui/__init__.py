"""The ctxchat terminal app (Textual)."""
