"""Pages of the partnerships area: the customer's service providers, the partner's partnerships, the email link."""
