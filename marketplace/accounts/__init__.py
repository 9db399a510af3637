"""Accounts: people who sign in (brand members, creators, platform staff)."""
