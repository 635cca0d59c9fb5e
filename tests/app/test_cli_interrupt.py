"""Ctrl-C while `ctxchat ask` streams stops the answer even when it lands inside llama.cpp's
call back into Python (the sampler's logits processor), where ctypes swallows the
KeyboardInterrupt it would raise."""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from collections.abc import Iterator

from ctxchat.app.cmd_ask import _stream

CALLBACK = ctypes.CFUNCTYPE(None)


def _sigint_inside_a_c_callback() -> None:
    """What llama.cpp does for every token: C calls a Python function; Ctrl-C lands there."""

    def on_token() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the signal is handled at the next bytecode, inside here
            pass

    CALLBACK(on_token)()


def test_ctrl_c_inside_a_c_callback_stops_the_answer(capsys) -> None:
    cancel = threading.Event()
    written = []

    def answer() -> Iterator[str]:
        for piece in ("The ", "depot ", "holds ", "crates."):
            if piece == "depot ":
                _sigint_inside_a_c_callback()
            if cancel.is_set():
                return  # the generation loop stops at its next token
            written.append(piece)
            yield piece

    assert _stream(answer(), cancel, echo=True) is False  # type: ignore[arg-type]
    assert cancel.is_set()
    out, err = capsys.readouterr()
    assert "ctxchat: interrupted" in err
    assert "crates" not in out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
