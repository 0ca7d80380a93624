"""What the screens need from the browsing side of the core (catalog search, branch information, audio books).

`kiosk.browse.Browser` implements this; the UI calls it only from its worker thread (`ui.worker`), never from the
Kivy main thread, because every call may hit the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from kiosk.browse_view import AudioBookView, BranchInfo, CategoryCount, OccupancyView, SearchPage, TitleDetail


class BrowserPort(Protocol):
    def categories(self) -> Sequence[CategoryCount]: ...
    def search(self, query: str, *, category: str | None = None, offset: int = 0, limit: int = 20) -> SearchPage: ...
    def title_detail(self, title_id: int) -> TitleDetail | None: ...
    def branch_info(self) -> BranchInfo: ...
    def audio_books(self) -> Sequence[AudioBookView]: ...


OccupancySource = Callable[[], OccupancyView | None]
"""Polled off the UI thread; returns None (or people=None) until the door counter has recorded traffic."""
