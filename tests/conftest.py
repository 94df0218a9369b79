"""Settings for the whole suite."""

from __future__ import annotations

import signal

# A suite started in the background by a non-interactive shell (`bash .ci/run &`) inherits SIGINT as
# ignored, and so would every `wave-sandbox` it starts (an ignored signal survives exec). The Ctrl-C
# tests send SIGINT as a terminal does: give it back its default so that it arrives.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
