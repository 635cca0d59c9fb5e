"""The side panels (library, context) beside the chat, or over it on a narrow terminal."""

from __future__ import annotations

from textual.widget import Widget


def is_overlay(panel: Widget) -> bool:
    """Whether the panel is drawn over the chat (a narrow terminal) rather than beside it.
    Esc closes it only then; elsewhere Esc keeps cancelling an answer."""
    return bool(panel.display) and panel.styles.layer == "overlay"
