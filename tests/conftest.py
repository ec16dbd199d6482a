from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

# A loaded CI machine must not turn slow examples into failures: no deadline, no too_slow.
settings.register_profile("finalexam", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("finalexam")
