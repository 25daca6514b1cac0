"""The platform, as its webmaster runs it: schools opened, suspended and resumed, the mail
settings, the queues, and the demo."""
