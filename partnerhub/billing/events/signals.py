"""Sent inside the transaction that stored new billing events (commission accrual listens)."""

from django.dispatch import Signal

# kwargs: event_ids (list[int]) — the events created now (replays send nothing).
events_stored = Signal()
