"""The access module: the one place that decides who may do what (DESIGN §5)."""
