"""Device drivers, their wire protocols and simulators. Knows nothing of the catalog, the core or the UI."""
