"""Creators: individuals or studios who accept orders. (Profiles, rate cards and discovery come later.)"""
