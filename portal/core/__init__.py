"""What every domain uses: database base, clock, permissions, jobs, outbox, mail, i18n."""
