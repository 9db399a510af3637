"""Audit log of staff (and other sensitive) actions."""
