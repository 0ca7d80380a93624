"""Foot traffic: door-counter ingest, rollups, occupancy, reports and the popularity index (人气指数).

Entry points for the rest of the kiosk:

- `kiosk.traffic.settings.traffic_settings(settings)` reads and validates `[traffic]` / `[traffic.index]`.
- `kiosk.traffic.ingest.ingest(db, branch_code, door_counts, cfg)` stores a batch of `devices.events.DoorCount`
  (one transaction: raw samples, deltas, rollups, occupancy).
- `kiosk.traffic.occupancy.occupancy_now(db, branch_code, cfg, now=None)` → `kiosk.browse_view.OccupancyView`.
- `kiosk.traffic.reports.traffic_report(db, start=, end=, by=, branch=)` and
  `kiosk.traffic.index.popularity_index(db, start=, end=, branch=, cfg=cfg.index)` → plain frozen dataclasses.
- `kiosk.traffic.charts.traffic_figure(report)` / `write_png`, `kiosk.traffic.export.*` for files.
"""
