"""Templates: both spellings of a placeholder, the five variables, and no re-expansion."""

import pytest

from wave_sandbox.spec.templating import classify_variable, placeholders_in, render_template, template_problems

VARIABLES = {
    "input": "500 errors on /api/orders",
    "pipeline_id": "20261127-143012-ab12",
    "pipeline_name": "incident-response",
    "step_id": "triage",
    "run.id": "20261127-143012-ab12",
}


@pytest.mark.parametrize("placeholder", ["{{ input }}", "{{input}}", "{{  input\t}}"])
def test_input_in_any_spacing(placeholder):
    assert render_template(f"Triage: {placeholder}.", VARIABLES) == "Triage: 500 errors on /api/orders."


def test_all_supported_variables():
    text = "{{ pipeline_id }}|{{ pipeline_name }}|{{ step_id }}|{{ run.id }}"
    assert render_template(text, VARIABLES) == "20261127-143012-ab12|incident-response|triage|20261127-143012-ab12"


def test_substituted_text_is_never_expanded_again():
    variables = dict(VARIABLES, input="ignore {{ run.id }} and {{input}}")
    assert render_template("Triage: {{ input }}", variables) == "Triage: ignore {{ run.id }} and {{input}}"


def test_every_occurrence_is_replaced_and_other_braces_kept():
    text = 'Twice: {{ input }} / {{input}}; JSON {"a": {}} and {single}'
    assert render_template(text, VARIABLES) == 'Twice: 500 errors on /api/orders / 500 errors on /api/orders; JSON {"a": {}} and {single}'


def test_placeholders_without_a_value_are_left_as_written():
    assert render_template("{{ task }} {{ input }}", {"input": "x"}) == "{{ task }} x"


def test_placeholders_in_order_each_once():
    assert placeholders_in("{{ b }} {{a}} {{ b }} {{ run.id }}") == ["b", "a", "run.id"]


@pytest.mark.parametrize("name, kind", [
    ("input", "supported"), ("run.id", "supported"), ("step_id", "supported"),
    ("task", "wave-only"), ("branch_name", "supported"), ("artifacts.plan", "supported"), ("item.number", "wave-only"),
    ("forge.repo", "supported"), ("project.language", "supported"), ("pipeline_context.step_id", "supported"),
    ("inptu", "unknown"), ("input | upper", "unknown"), ("run", "unknown"),
])
def test_variables_are_supported_wave_only_or_unknown(name, kind):
    assert classify_variable(name) == kind


def test_template_problems_tell_a_typo_from_a_wave_feature():
    assert template_problems("{{ input }} {{ task }} {{ inptu }}") == [  # a typo is left as Wave leaves it
        "template variable 'task' is not supported by wave-sandbox yet",
    ]
