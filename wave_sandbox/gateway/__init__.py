"""Host-side Messages API gateway: step tokens, budgets, transcripts, and the model upstreams
(the real Anthropic API with the host's key, or the offline scripted model).

The public API is re-exported here; the modules behind it are named for what they do.
"""

import logging

from wave_sandbox.gateway.budgets import Budget
from wave_sandbox.gateway.model_spec import ModelChoice, make_upstream, parse_model_spec
from wave_sandbox.gateway.server import Gateway
from wave_sandbox.gateway.upstream import Upstream
from wave_sandbox.gateway.usage import Usage

__all__ = ["Budget", "Gateway", "ModelChoice", "Upstream", "Usage", "make_upstream", "parse_model_spec"]

# A library stays quiet unless the application configures logging (the CLI decides what reaches stderr).
logging.getLogger("wave_sandbox.gateway").addHandler(logging.NullHandler())
