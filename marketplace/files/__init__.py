"""Stored uploads (business licences now; avatars, drafts and attachments later)."""
