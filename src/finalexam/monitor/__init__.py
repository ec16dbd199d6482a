"""Monitoring what shipped: re-check the portfolio against today's advisories and alert."""
