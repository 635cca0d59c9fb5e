"""Where ctxchat keeps its data and configuration."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from ctxchat.engines.errors import StoreError

APP_NAME = "ctxchat"
HOME_ENV = "CTXCHAT_HOME"


def data_dir() -> Path:
    """The data dir: $CTXCHAT_HOME if set, else the platform's user data dir. Created on use."""
    override = os.environ.get(HOME_ENV)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    return private_dir(path)


def private_dir(path: Path) -> Path:
    """Create `path` (0700: the library holds the text of decrypted PDFs) if it is missing;
    an unusable folder is a one-line StoreError naming it and the way out."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied", str(path))
    except OSError as exc:
        raise StoreError(
            f"cannot use the data folder {path}: {exc.strerror or exc} "
            f"(set {HOME_ENV} to a writable folder)"
        ) from exc
    return path


def config_dir() -> Path:
    """The config dir: $CTXCHAT_HOME/config if set (tests stay isolated), else the platform's."""
    override = os.environ.get(HOME_ENV)
    if override:
        path = Path(override).expanduser() / "config"
    else:
        path = Path(platformdirs.user_config_dir(APP_NAME))
    return private_dir(path)


def db_path() -> Path:
    return data_dir() / "library.db"


def cache_dir(name: str) -> Path:
    """A named folder under the data dir for derived files (model builds, KV states)."""
    return private_dir(data_dir() / "cache" / name)
