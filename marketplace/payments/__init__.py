"""Payments in: enterprise top-ups by Stripe Checkout or corporate bank transfer (对公转账)."""
