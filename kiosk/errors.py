"""Errors people can meet. Each carries a message key (translated in `kiosk.i18n`) and the values it needs."""

from __future__ import annotations

from typing import Any


class KioskError(Exception):
    """Base of every error that is shown to a person: `key` is a message id, `params` fill its placeholders."""

    key: str = "error.unexpected"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key, params)


class ConfigError(KioskError):
    """An invalid setting: stops the start with one line naming the key and the problem."""

    key = "error.config"

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(setting=setting, problem=problem)
        self.setting = setting
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.setting}: {self.problem}"
