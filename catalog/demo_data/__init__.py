"""Curated word lists and real classics from which the demo catalog is generated (see `catalog.demo`)."""
