"""The staff console: enterprise verification queue, audit log, users (admin)."""
