"""The pseudonymous warehouse: models, migrations, loaders and the audit log."""
