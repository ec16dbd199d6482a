"""Network indicators: URLs, domains, IP addresses and e-mail addresses in every file.

Text files and binaries alike are searched as bytes (a binary's printable strings are where
its URLs live). Each indicator is classified — package registries, source hosting,
documentation and well-known services on one side; raw public IPs, paste sites, Discord/
Telegram/Slack webhooks, tunnels, dynamic DNS, ``.onion``, URL shorteners, file drops and
out-of-band interaction catchers on the other — and lands in ``Report.indicators``. A
suspicious endpoint inside executable code is also a finding.

- ``extract.py``: finds indicators in bytes; ``categories.py``: classifies them
  (the categories are data: ``rules/hosts/``)
- ``analyzer.py``: the plug-in (``Report.indicators``, findings for suspicious endpoints)
"""

NAME = "indicators"  # the analyzer's name: what only/disable select, found_by of its findings
