"""ctxchat's user-facing side: the CLI, the Textual TUI, clipboard and config."""
