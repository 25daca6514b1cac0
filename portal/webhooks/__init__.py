"""Webhooks (SPEC §9): endpoints set by a school's direction, calls signed as the Standard
Webhooks specification says, retried for more than a day, every attempt kept."""
