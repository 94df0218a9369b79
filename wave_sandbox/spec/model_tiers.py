"""Wave's model tiers (`cheapest`, `balanced`, `strongest`) turned into concrete model ids.

As Wave's `RoutingConfig.ResolveComplexityModel`: wave.yaml's `runtime.routing.complexity_map` first,
then the claude adapter's `tier_models`, then Wave's `DefaultComplexityMap` (cheapest ->
claude-haiku-4-5, balanced -> "" meaning the run's default model, strongest -> claude-opus-4). The
result is checked against the operator's allowed models like any other model id; a tier name itself
never reaches the gateway or the upstream.
"""

from __future__ import annotations

from dataclasses import dataclass

TIERS = ("cheapest", "balanced", "strongest")
DEFAULT_COMPLEXITY_MAP = {"cheapest": "claude-haiku-4-5", "balanced": "", "strongest": "claude-opus-4"}


@dataclass(frozen=True)
class TierMap:
    """The tier -> model id mapping of one repository ("" = the run's default model)."""

    complexity_map: tuple[tuple[str, str], ...] = ()
    tier_models: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, complexity_map: dict[str, str], tier_models: dict[str, str]) -> "TierMap":
        return cls(tuple(sorted(complexity_map.items())), tuple(sorted(tier_models.items())))

    def model_for(self, tier: str) -> str:
        for source in (dict(self.complexity_map), dict(self.tier_models)):
            if tier in source:
                return source[tier] if source[tier] != "default" else ""
        return DEFAULT_COMPLEXITY_MAP[tier]

    def mapping(self) -> dict[str, str]:
        """Every tier with its model id ("" for the run's default), for `show` and the run record."""
        return {tier: self.model_for(tier) for tier in TIERS}

    def source_of(self, tier: str) -> str:
        if tier in dict(self.complexity_map):
            return "wave.yaml runtime.routing.complexity_map"
        if tier in dict(self.tier_models):
            return "wave.yaml adapters.claude.tier_models"
        return "Wave's DefaultComplexityMap"


def is_tier(model: str | None) -> bool:
    return model in TIERS


def resolve_model(model: str | None, tiers: TierMap) -> str | None:
    """A concrete model id, "" for the run's default, or None when nothing was asked."""
    if not model:
        return None
    return tiers.model_for(model) if is_tier(model) else model
