"""Card-controlled night entry (issue 11): rules, the entry station (reader → decision → relay → audit), settings.

- `kiosk.entry.settings.entry_settings(settings)` reads and validates `[entry]` (per-branch `[entry.branch.CODE]`).
- `kiosk.entry.rules.decide(cfg, facts)` is the pure decision; `kiosk.entry.station.EntryStation` applies it.
- `kiosk.entry.visits.card_entries(db, …)` counts allowed card entries (see docs/ENTRY.md on double counting).
"""
