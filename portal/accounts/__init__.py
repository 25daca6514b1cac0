"""Platform, schools, users, guardianship, login, activation, my account."""
