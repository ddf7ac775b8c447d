"""Outbox and in-app notifications: issue 3. Nothing is stored here yet."""
