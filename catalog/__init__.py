"""Data model, database access, migrations, identifiers, search and import/export. Knows nothing of devices or UI."""
