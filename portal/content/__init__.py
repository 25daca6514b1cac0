"""Content that people subscribe to: announcements and homework (SPEC §5)."""
