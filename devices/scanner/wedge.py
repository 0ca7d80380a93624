"""Keyboard-wedge scanner input, assembled from key events by timing (never through a Kivy `TextInput`, which drops
characters of fast wedge input: kivy issue #6801).

The UI forwards raw key events `(key, timestamp)`: a printable character, or a key name (`"enter"`, `"tab"`, …).
A scanner types a whole code within tens of milliseconds; a person needs 100 ms or more per key. So a burst is a
run of keys each at most `max_gap` after the previous one, ended by a terminator key; a slower key starts a new
burst, which is why slow typing never produces a scan. Codes shorter than `min_length` are ignored (a person hitting
two keys at once and Enter).
"""

from __future__ import annotations

DEFAULT_MAX_GAP = 0.05
KEY_NAMES_AS_TEXT = {"spacebar": " ", "space": " "}


class WedgeAssembler:
    """Feed every key event; `feed()` returns the code when a burst ends with a terminator, else None."""

    def __init__(
        self,
        *,
        max_gap: float = DEFAULT_MAX_GAP,
        min_length: int = 4,
        max_length: int = 128,
        terminators: frozenset[str] = frozenset({"enter", "return", "numpadenter", "tab", "\r", "\n", "\t"}),
        prefix: str = "",
        suffix: str = "",
    ) -> None:
        self.max_gap = max_gap
        self.min_length = min_length
        self.max_length = max_length
        self.terminators = terminators
        self.prefix = prefix
        self.suffix = suffix
        self._chars: list[str] = []
        self._last_at: float | None = None

    def reset(self) -> None:
        self._chars.clear()
        self._last_at = None

    def feed(self, key: str, at: float) -> str | None:
        """One key event at monotonic time `at` (seconds)."""
        gap_ok = self._last_at is not None and 0 <= at - self._last_at <= self.max_gap
        starts_burst = self._last_at is None or not gap_ok
        self._last_at = at
        if key.lower() in self.terminators or key in self.terminators:
            if starts_burst:
                self.reset()
                return None
            code = self._finish()
            self.reset()
            return code
        char = KEY_NAMES_AS_TEXT.get(key.lower(), key)
        if len(char) != 1 or not char.isprintable():
            return None  # shift, ctrl and other modifiers do not break a burst
        if starts_burst:
            self._chars = []
        self._chars.append(char)
        if len(self._chars) > self.max_length:
            self._chars = []
        return None

    def _finish(self) -> str | None:
        text = "".join(self._chars)
        if self.prefix and text.startswith(self.prefix):
            text = text[len(self.prefix) :]
        if self.suffix and text.endswith(self.suffix):
            text = text[: -len(self.suffix)]
        text = text.strip()
        if len(text) < self.min_length:
            return None
        return text
