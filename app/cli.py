"""The `ctxchat` command line. Exit codes: 0 success, 1 a clear one-line error, 2 usage.

Each sub-command lives in its own app/cmd_*.py module exposing register(subparsers);
this module only wires them together and turns errors into one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sqlite3
import sys
from collections.abc import Sequence

from ctxchat import __version__
from ctxchat.engines.errors import CtxchatError
from ctxchat.engines.terminal_text import terminal_safe

# Modules that add sub-commands, in the order --help lists them.
COMMAND_MODULES = [
    "ctxchat.app.cmd_library",
    "ctxchat.app.cmd_compress",
    "ctxchat.app.cmd_ask",
    "ctxchat.app.cmd_models",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ctxchat",
        description=(
            "Compress long documents locally, then chat with an LLM about them. "
            "Run without a command to open the terminal app."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ctxchat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def fail(message: str) -> int:
    """Print one line, no traceback, and return exit code 1."""
    print(f"ctxchat: error: {terminal_safe(message)}", file=sys.stderr)
    return 1


def notice(message: str) -> None:
    """A one-line notice on stderr (the command goes on)."""
    print(f"ctxchat: {terminal_safe(message)}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from ctxchat.app.tui.main import run_tui

            return run_tui()
        from ctxchat.engines.store.db import Store

        Store.on_busy = notice
        return int(args.func(args) or 0)
    except CtxchatError as exc:
        return fail(str(exc))
    except sqlite3.Error as exc:
        # A damaged library (a corrupt page) or one SQLite cannot write to.
        return fail(f"the library database cannot be used: {exc} (see: ctxchat doctor)")
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            return 0
        where = f" ({exc.filename})" if exc.filename else ""
        return fail(f"{exc.strerror or exc}{where}")
    except KeyboardInterrupt:
        print("ctxchat: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
