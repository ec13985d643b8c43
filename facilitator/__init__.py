"""facilitator — measure and protect conversation balance (floor time, interruptions, turns)."""

__version__ = "0.1.0"
