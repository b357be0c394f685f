"""Pages of the partner program: the operator's settings and review queue, requesting partner status,
and an approved partner's profile and staff."""
