"""``finalexam serve``: the portfolio's REST API and dashboard (server-rendered, no build step)."""
