"""Messages between people of a school, under the communication rules (SPEC §3)."""
