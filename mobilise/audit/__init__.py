"""The audit trail: who did what, when, to what, and from which network (see README, "Audit trail")."""
