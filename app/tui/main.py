"""Entry point of the terminal app (`ctxchat` with no command)."""

from __future__ import annotations

from ctxchat.app.config import load_config


def run_tui() -> int:
    """Open the app on the user's library; returns the exit code."""
    from ctxchat.app.tui.app import CtxchatApp

    # A bad config file is a one-line error from the CLI (ConfigError), before any drawing.
    app = CtxchatApp(config=load_config())
    code = app.run()
    return int(code or 0)
