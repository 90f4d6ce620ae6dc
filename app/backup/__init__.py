"""Backups: the database dumped whole, and a manifest of every stored personal file (recordings,
ID photos) with its size and SHA-256, so that a restore can be checked file by file."""
