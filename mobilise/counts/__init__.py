"""Counts kept as their rows change, so staff read a case's numbers in a few small queries."""
