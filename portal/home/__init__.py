"""The home page of each profile."""
