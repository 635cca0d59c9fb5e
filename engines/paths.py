"""Where ctxchat keeps its data and configuration."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "ctxchat"
HOME_ENV = "CTXCHAT_HOME"


def data_dir() -> Path:
    """The data dir: $CTXCHAT_HOME if set, else the platform's user data dir. Created on use."""
    override = os.environ.get(HOME_ENV)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """The config dir: $CTXCHAT_HOME/config if set (tests stay isolated), else the platform's."""
    override = os.environ.get(HOME_ENV)
    if override:
        path = Path(override).expanduser() / "config"
    else:
        path = Path(platformdirs.user_config_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def db_path() -> Path:
    return data_dir() / "library.db"


def cache_dir(name: str) -> Path:
    """A named folder under the data dir for derived files (model builds, KV states)."""
    path = data_dir() / "cache" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
