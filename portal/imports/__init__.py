"""Imports from the national registers' CSV exports (SPEC §10)."""
