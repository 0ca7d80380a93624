"""Offline lending: a durable local journal, a local cache of patrons and items, and an ordered idempotent replay.

While the shared database is unreachable the kiosk keeps taking returns and (within a per-patron limit) loans,
answering from the cache and committing each action to the journal before it is shown as done. When the database
is back the journal replays in order; conflicts become librarian exceptions (`kiosk exceptions list`).
"""
