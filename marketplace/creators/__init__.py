"""Creators: individuals or studios who accept orders — profile, platform statistics, rate cards, real-name
verification, the profile page brands see, and discovery (search, shortlists, comparison)."""
