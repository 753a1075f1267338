"""zkLoRA test suite.

Importing zklora first sets its runtime defaults (OMP_WAIT_POLICY) before any test
module loads torch and with it libgomp.
"""

import zklora  # noqa: F401
