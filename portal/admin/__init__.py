"""The direction's console, the webmaster's platform console, demo data."""
