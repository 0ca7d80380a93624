"""`[sip2]` settings (from `Settings.extra`): server accounts, language of screen messages, wire encoding.

```toml
[sip2]
encoding = "utf-8"          # or "gb18030" for Chinese self-check machines
language = "zh_CN"          # language of AF screen messages
idle_timeout_s = 300
[[sip2.accounts]]
user = "sc1"
password = "secret"
institution = "XW01"        # a branch code: the loans are made in this branch
location = "gate-1"
```
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.errors import ConfigError


@dataclass(frozen=True)
class Sip2Account:
    user: str
    password: str
    institution: str
    location: str = ""


@dataclass(frozen=True)
class Sip2Settings:
    accounts: tuple[Sip2Account, ...] = ()
    encoding: str = "utf-8"
    language: str = "zh_CN"
    idle_timeout_s: float = 300.0


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value):
        raise ConfigError(f"{where}.{key}", "must be a non-empty string" if required else "must be a string")
    if "|" in value or "\r" in value or "\n" in value:
        raise ConfigError(f"{where}.{key}", "must not contain '|' or line breaks (SIP2 field separators)")
    return value


def sip2_settings(extra: Mapping[str, Any]) -> Sip2Settings:
    """Validate `[sip2]`; an absent table means no accounts (the server then refuses to start)."""
    table = extra.get("sip2", {})
    if not isinstance(table, Mapping):
        raise ConfigError("sip2", "must be a table ([sip2])")
    encoding = table.get("encoding", "utf-8")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ConfigError("sip2.encoding", f"unknown encoding {encoding!r}") from None
    language = table.get("language", "zh_CN")
    if language not in ("zh_CN", "en"):
        raise ConfigError("sip2.language", "must be zh_CN or en")
    timeout = table.get("idle_timeout_s", 300)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 1 <= timeout <= 86400:
        raise ConfigError("sip2.idle_timeout_s", "must be a number of seconds between 1 and 86400")
    raw_accounts = table.get("accounts", [])
    if not isinstance(raw_accounts, list):
        raise ConfigError("sip2.accounts", "must be an array of tables ([[sip2.accounts]])")
    accounts: list[Sip2Account] = []
    for n, entry in enumerate(raw_accounts):
        where = f"sip2.accounts[{n}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(where, "must be a table")
        account = Sip2Account(_text(entry, "user", where), _text(entry, "password", where),
                              _text(entry, "institution", where), _text(entry, "location", where, required=False))
        if any(a.user == account.user for a in accounts):
            raise ConfigError(f"{where}.user", f"duplicate user {account.user!r}")
        accounts.append(account)
    return Sip2Settings(tuple(accounts), encoding, language, float(timeout))
