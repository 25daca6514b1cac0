"""Faults injected into the real stack: each test ends by counting what was lost or doubled."""
