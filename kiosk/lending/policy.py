"""Lending rules, per branch: network defaults from `[lending]` in kiosk.toml, overridden by `Branch.policy`.

Defaults follow common practice of Chinese public libraries' community branches: 30 days, 5 items, one renewal, no
fines, self-registration allowed in a 24-hour room (there is nobody to approve it at night).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from kiosk.errors import ConfigError


@dataclass(frozen=True)
class LendingPolicy:
    loan_days: int = 30
    max_loans: int = 5
    max_renewals: int = 1
    renewal_days: int = 30
    renew_overdue_grace_days: int = 0
    """A loan overdue by more than this many days cannot be renewed at the kiosk."""
    block_when_overdue_days: int = 30
    """A patron with any loan overdue longer than this may not borrow until it is returned."""
    fine_per_day_cents: int = 0
    """Charged per full local day late, on return; 0 (the default) means no fines at all."""
    fine_cap_cents: int = 0
    """Most a single late return can cost; 0 means no cap."""
    block_when_fines_cents: int = 0
    """Unsettled fines at or above this stop new loans; 0 means fines never block."""
    floating_collection: bool = False
    """Items returned at another branch stay there instead of going back in transit."""
    self_registration: bool = True
    require_staff_approval: bool = False
    history_retention_days: int = 365
    """Returned loans keep their patron link this long, then are anonymised."""
    resolve_isbn_when_unique: bool = False
    """Scanning an ISBN lends the title's only available copy in this branch, when there is exactly one."""


def _coerce(setting: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        raise ConfigError(setting, f"expected true or false, got {value!r}")
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(setting, f"expected a whole number ≥ 0, got {value!r}")
        return value
    return value


def apply_overrides(base: LendingPolicy, overrides: Mapping[str, Any], where: str) -> LendingPolicy:
    known = {f.name: getattr(base, f.name) for f in fields(base)}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in known:
            raise ConfigError(f"{where}.{key}", f"unknown lending rule (known: {', '.join(sorted(known))})")
        changes[key] = _coerce(f"{where}.{key}", value, known[key])
    policy = replace(base, **changes)
    if policy.max_loans < 1:
        raise ConfigError(f"{where}.max_loans", "must be at least 1")
    if policy.loan_days < 1:
        raise ConfigError(f"{where}.loan_days", "must be at least 1")
    return policy


def network_policy(extra: Mapping[str, Any]) -> LendingPolicy:
    table = extra.get("lending", {})
    if not isinstance(table, Mapping):
        raise ConfigError("lending", "must be a table ([lending])")
    return apply_overrides(LendingPolicy(), table, "lending")


def branch_policy(
    network: LendingPolicy, branch_overrides: Mapping[str, Any] | None, branch_code: str
) -> LendingPolicy:
    return apply_overrides(network, branch_overrides or {}, f"branch {branch_code} policy")
