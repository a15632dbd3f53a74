"""Operators: start Azure work, then wait for it deferrably (by default) through a trigger."""
