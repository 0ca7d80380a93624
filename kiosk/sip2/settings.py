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
offline = true              # this machine may lend while we are unreachable (98 says offline_ok = Y) and
                            # forward those loans and returns later with no_block = Y (default false)
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
    offline: bool = False
    """Store and forward allowed: SC Status answers `offline_ok = Y`, and Checkout/Checkin with `no_block = Y`
    are taken as already done at their own transaction date (the client lent while we were unreachable)."""


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
        offline = entry.get("offline", False)
        if not isinstance(offline, bool):
            raise ConfigError(f"{where}.offline", "expected true or false")
        account = Sip2Account(_text(entry, "user", where), _text(entry, "password", where),
                              _text(entry, "institution", where), _text(entry, "location", where, required=False),
                              offline)
        if any(a.user == account.user for a in accounts):
            raise ConfigError(f"{where}.user", f"duplicate user {account.user!r}")
        accounts.append(account)
    return Sip2Settings(tuple(accounts), encoding, language, float(timeout))


# ---------------------------------------------------------------------------------------------------- client
PATRON_ID_MODES = ("card_number", "id_number", "card_key")


@dataclass(frozen=True)
class Sip2ClientSettings:
    """`[sip2.client]`: the library system this kiosk lends from when `[circulation] backend = "sip2"`.

    `patron_id` says what goes into the SIP2 patron identifier (AA), because the library system only knows its
    own patron barcodes, and a raw ID number must never leave the kiosk by accident:
    - `card_number` (default): the number read from a library card; ID and social-security cards are not sent
      (the resident is told the card is unknown here).
    - `id_number`: the number read from any card, resident ID numbers included. Many Chinese library systems use
      the ID number as the reader number; the operator must choose this explicitly.
    - `card_key`: this network's keyed hash of the card (what our own database stores). Only a server sharing the
      network secret, i.e. our own `kiosk sip2 serve`, knows it; no number leaves the kiosk at all.
    """

    host: str
    port: int = 6001
    user: str = ""
    password: str = ""
    location: str = ""
    institution: str = ""
    encoding: str = "utf-8"
    timeout_s: float = 10.0
    retries: int = 3
    patron_id: str = "card_number"
    offline: bool = True
    """Keep lending while the library system is unreachable, where it allows that (its SC Status said
    `offline_ok = Y`): returns and loans are journaled and forwarded with `no_block = Y` when it answers again."""


def sip2_client_settings(extra: Mapping[str, Any]) -> Sip2ClientSettings:
    """Validate `[sip2.client]`; raises `ConfigError` naming the key when absent or wrong."""
    sip2 = extra.get("sip2", {})
    table = sip2.get("client") if isinstance(sip2, Mapping) else None
    where = "sip2.client"
    if not isinstance(table, Mapping):
        raise ConfigError(where, 'add a [sip2.client] table (host, port, user, password, institution) for '
                                 'backend = "sip2"')
    host = _text(table, "host", where)
    port = table.get("port", 6001)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError(f"{where}.port", "must be a TCP port between 1 and 65535")
    encoding = table.get("encoding", "utf-8")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ConfigError(f"{where}.encoding", f"unknown encoding {encoding!r}") from None
    timeout = table.get("timeout_s", 10)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0.1 <= timeout <= 120:
        raise ConfigError(f"{where}.timeout_s", "must be a number of seconds between 0.1 and 120")
    retries = table.get("retries", 3)
    if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 10:
        raise ConfigError(f"{where}.retries", "must be a whole number between 0 and 10")
    mode = table.get("patron_id", "card_number")
    if mode not in PATRON_ID_MODES:
        raise ConfigError(f"{where}.patron_id", f"must be one of {', '.join(PATRON_ID_MODES)}")
    offline = table.get("offline", True)
    if not isinstance(offline, bool):
        raise ConfigError(f"{where}.offline", "expected true or false")
    return Sip2ClientSettings(host, port, _text(table, "user", where), _text(table, "password", where, required=False),
                              _text(table, "location", where, required=False),
                              _text(table, "institution", where, required=False), encoding, float(timeout), retries,
                              mode, offline)
