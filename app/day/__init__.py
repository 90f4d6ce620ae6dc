"""The live exam day around the journey: sign-in, the poll, the clock, consoles, calls."""
