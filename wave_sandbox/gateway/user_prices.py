"""The price table a run uses: the published prices, with the user's `prices:` settings on top.

Only the user's own config file can set prices (a repository's `.wave/config.yaml` refuses the key),
so a repository cannot make a run look cheaper than it is, nor loosen `--max-cost`.
"""

from __future__ import annotations

from wave_sandbox.gateway.prices import PriceTable
from wave_sandbox.settings.files import UserConfigFile, read_settings_file, user_config_path

__all__ = ["user_price_table"]


def user_price_table() -> PriceTable:
    """The published table with the user's overrides; SpecError for a malformed settings file."""
    user, _ = read_settings_file(user_config_path(), UserConfigFile)
    if user is None or not user.prices:
        return PriceTable()
    return PriceTable.with_overrides({model: price.model_dump() for model, price in user.prices.items()})
