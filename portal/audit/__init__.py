"""The audit log of sensitive actions (journal des actions sensibles)."""
