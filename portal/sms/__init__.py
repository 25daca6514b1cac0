"""SMS to families (SPEC §8): providers, actions, the send queue, delivery reports and STOP."""
