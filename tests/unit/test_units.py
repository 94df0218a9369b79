import pytest

from wave_sandbox.units import parse_duration


@pytest.mark.parametrize("text, seconds", [
    ("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("7d", 604800), ("1w", 604800), (" 1.5m ", 90),
])
def test_durations_in_the_units_people_write(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "7 days", "-5m", "1x", "m"])
def test_anything_else_names_the_accepted_forms(text):
    with pytest.raises(ValueError, match="write it as 90s, 15m, 2h, 7d or a number of seconds"):
        parse_duration(text)
