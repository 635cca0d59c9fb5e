"""Settings: rate or budget, models, KV type, context size, device, precision, sampling.

"Pick a chat model" offers every model ctxchat can answer with here: the bundled GGUF, the
pulled ones (`ctxchat models pull`) and the models of local servers (Ollama, LM Studio,
llama.cpp server), found in a thread so the screen opens at once. Picking one fills the
chat model or server fields below it.
"""

from __future__ import annotations

import contextlib

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from ctxchat.app.config import DEVICES, KV_TYPES, PRECISIONS, Config, ConfigError
from ctxchat.engines.terminal_text import terminal_safe

# (field, label, hint) for the free-text settings, in screen order.
TEXT_FIELDS = [
    ("rate", "Rate", "kept share of tokens, 0-1 (empty: use the budget)"),
    ("budget", "Budget", "tokens of context (empty: the default rate)"),
    ("compressor", "Compressor model", "folder (empty: the bundled one)"),
    ("chat_model", "Chat model", "GGUF path (empty: bundled SmolLM2-135M)"),
    ("server_url", "Server URL", "OpenAI-compatible server (overrides the GGUF)"),
    ("server_model", "Server model", "a model the server lists (empty: its first)"),
    ("n_ctx", "Context size", "tokens the chat model sees"),
    ("temperature", "Temperature", "0-2"),
    ("max_tokens", "Max answer tokens", "empty: 64 for a small local model, else 512"),
]

# (field, label, choices) for the settings picked from a list, after the text ones.
SELECT_FIELDS = [
    ("kv_type", "KV cache type", KV_TYPES),
    ("device", "Device", DEVICES),
    ("precision", "Precision", PRECISIONS),  # of the word compressor, like the device
]


PICK_GGUF, PICK_SERVER = "gguf\t", "server\t"  # prefixes of the picker's option values


def local_model_options() -> list[tuple[str, str]]:
    """(label, value) for the bundled and the pulled GGUF chat models."""
    from ctxchat.engines.errors import ModelNotFoundError
    from ctxchat.engines.hub import pulled_models
    from ctxchat.engines.models import smollm_gguf

    options = []
    with contextlib.suppress(ModelNotFoundError):  # no bundled model: offer the others
        options.append((f"{smollm_gguf().name} (bundled)", PICK_GGUF))
    for m in pulled_models():
        options.append((terminal_safe(f"{m.path.name} (pulled)"), PICK_GGUF + str(m.path)))
    return options


def server_model_options() -> list[tuple[str, str]]:
    """(label, value) for every model of every local server that answers."""
    from ctxchat.engines.answer.servers import discover

    return [
        (terminal_safe(f"{model} ({server.name})"), f"{PICK_SERVER}{server.url}\t{model}")
        for server in discover()
        for model in server.models
    ]


class SettingsScreen(ModalScreen[Config | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save", priority=True),
    ]

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="settings-dialog", classes="dialog"):
            yield Static("Settings (Ctrl+S saves, Esc cancels)", classes="panel-title")
            with Horizontal(classes="setting"):
                yield Label("Pick a chat model", classes="setting-label")
                yield Select(
                    local_model_options(),
                    prompt="bundled, pulled or server model",
                    id="pick-model",
                )
            for name, label, hint in TEXT_FIELDS:
                value = getattr(self.config, name)
                with Horizontal(classes="setting"):
                    yield Label(label, classes="setting-label")
                    yield Input(
                        "" if value is None else str(value),
                        placeholder=hint,
                        id=f"set-{name}",
                        classes="setting-input",
                    )
            for name, label, choices in SELECT_FIELDS:
                with Horizontal(classes="setting"):
                    yield Label(label, classes="setting-label")
                    yield Select(
                        [(c, c) for c in choices],
                        value=getattr(self.config, name),
                        allow_blank=False,
                        id=f"set-{name}",
                    )
            yield Static("", id="settings-error")
            with Horizontal(id="settings-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.find_servers()

    @work(thread=True, exclusive=True, group="find-servers")
    def find_servers(self) -> None:
        found = server_model_options()
        if found:
            self.app.call_from_thread(self._add_options, found)

    def _add_options(self, extra: list[tuple[str, str]]) -> None:
        picker = self.query_one("#pick-model", Select)
        picker.set_options([*local_model_options(), *extra])

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "pick-model" or not isinstance(event.value, str):
            return
        kind, _, rest = event.value.partition("\t")
        fields = {"chat_model": "", "server_url": "", "server_model": ""}
        if kind + "\t" == PICK_SERVER:
            fields["server_url"], _, fields["server_model"] = rest.partition("\t")
        else:
            fields["chat_model"] = rest  # "" = the bundled model
        for name, value in fields.items():
            # A server's model name is drawn by the Input: shown escaped, like its label.
            self.query_one(f"#set-{name}", Input).value = terminal_safe(value)

    def read_config(self) -> Config:
        """The config the form describes; ConfigError names a bad field."""
        changes: dict[str, object] = {}
        for name, label, _ in TEXT_FIELDS:
            raw = self.query_one(f"#set-{name}", Input).value.strip()
            default = getattr(Config(), name)
            try:
                if name in ("rate", "budget", "max_tokens"):
                    changes[name] = (float(raw) if name == "rate" else int(raw)) if raw else None
                elif isinstance(default, float):
                    changes[name] = float(raw)
                elif isinstance(default, int):
                    changes[name] = int(raw)
                else:
                    changes[name] = raw
            except ValueError:
                raise ConfigError(f"{label}: not a number: {raw!r}") from None
        for name, _, _ in SELECT_FIELDS:
            changes[name] = self.query_one(f"#set-{name}", Select).value
        return Config(**changes)  # type: ignore[arg-type]

    def action_save(self) -> None:
        try:
            config = self.read_config()
        except ConfigError as exc:
            self.query_one("#settings-error", Static).update(terminal_safe(str(exc)))
            return
        self.dismiss(config)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()
