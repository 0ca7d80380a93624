"""Every message key the lending rules and the visit machine can put on screen has zh_CN and en text.

Keys are found two ways: string literals in the source (`Message("loan.lent", …)`, `key = "refusal.…"`), and the
keys composed at run time from a refusal's reason or an item's status (`refusal.not_loanable.<status>`, …), which a
literal scan cannot see, so they are enumerated from the enums and the reasons the service raises.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from catalog.model import ItemStatus, PatronStatus
from kiosk import i18n
from kiosk.lending import errors
from kiosk.session.view import Message
from kiosk.session.visit import VisitMachine

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [*sorted((ROOT / "kiosk" / "lending").glob("*.py")), ROOT / "kiosk" / "session" / "visit.py",
           ROOT / "kiosk" / "session" / "runner.py", ROOT / "kiosk" / "staff_accounts.py"]
PREFIXES = ("refusal", "loan", "return", "renew", "session", "receipt", "rating", "account", "staff", "error")
LITERAL = re.compile(r'"((?:' + "|".join(PREFIXES) + r')\.[a-z_]+(?:\.[a-z_]+)*)"')

PATRON_BLOCK_REASONS = sorted({*(s.value for s in PatronStatus if s != PatronStatus.ACTIVE), "card_expired",
                               "overdue"})
RENEWAL_REASONS = ["blocked", "changed", "max_renewals", "reserved", "too_overdue"]


def literal_keys() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        found |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    # These three are only prefixes: `VisitMachine.refusal_message` always appends the status or reason.
    return found - {errors.ItemNotLoanable.key, errors.PatronBlocked.key, errors.RenewalRefused.key}


def composed_keys() -> set[str]:
    def key(refusal: errors.Refusal) -> str:
        return VisitMachine.refusal_message(refusal).key

    out = {key(errors.ItemNotLoanable(status=s.value)) for s in ItemStatus if s != ItemStatus.AVAILABLE}
    out |= {key(errors.PatronBlocked(reason=r)) for r in PATRON_BLOCK_REASONS}
    out |= {key(errors.RenewalRefused(reason=r)) for r in RENEWAL_REASONS}
    return out


def test_the_source_scan_finds_the_keys_it_should() -> None:
    # Guards the regex itself: if it stopped matching, the real test below would pass vacuously.
    keys = literal_keys()
    assert {"loan.lent", "return.ok", "session.timed_out", "refusal.limit_reached", "rating.thanks"} <= keys
    assert len(keys) > 30


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_key_used_by_the_rules_and_the_session_is_translated(language: str) -> None:
    missing = sorted((literal_keys() | composed_keys()) - i18n.keys(language))
    assert missing == [], f"{language} lacks {missing}"


def test_the_catalogs_agree_with_each_other() -> None:
    assert i18n.missing_translations() == {}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_loan_message_fills_every_placeholder(language: str) -> None:
    message = Message("loan.lent", {"title": "红楼梦", "due": date(2026, 12, 22), "count": 1, "max": 5})
    text = i18n.translate(message.key, language, **message.params)
    assert "红楼梦" in text
    assert "{" not in text
    assert ("2026年12月22日" if language == "zh_CN" else "22 Dec 2026") in text


def test_chinese_puts_no_spaces_around_a_due_date() -> None:
    """It read "请于 2026年12月22日 前归还"; Chinese sets no spaces between ideographs and a date written in them."""
    for key in ("loan.lent", "loan.lent_offline"):
        text = i18n.translate(key, "zh_CN", title="红楼梦", due=date(2026, 12, 22), count=1, max=5)
        assert "请于2026年12月22日前归还" in text, text
