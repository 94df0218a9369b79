"""wave-sandbox: run Wave pipelines with every step inside its own Docker container.

Kept free of imports: the agent image copies this package marker beside `wave_sandbox.agent`,
which must import only the standard library and `anthropic`.
"""

__version__ = "0.1.0"
