"""The `ctxchat` command line. Exit codes: 0 success, 1 a clear one-line error, 2 usage.

Each sub-command lives in its own app/cmd_*.py module exposing register(subparsers);
this module only wires them together and turns errors into one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ctxchat import __version__
from ctxchat.engines.errors import CtxchatError

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
    print(f"ctxchat: error: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from ctxchat.app.tui.main import run_tui

            return run_tui()
        return int(args.func(args) or 0)
    except CtxchatError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("ctxchat: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
