"""`validate` on composition steps and graph edges: what runs now, and what is refused, one line each."""

from __future__ import annotations

import pytest

from tests.unit.spec.helpers import line_of, problems_in

HEAD = """\
kind: WavePipeline
metadata: {name: composed}
steps:
  - id: first
    persona: navigator
    exec: {source: "List"}
    output_artifacts: [{name: items, path: output/items.json, type: json}]
"""
CHILD = "kind: WavePipeline\nmetadata: {name: child}\nsteps:\n  - id: c\n    persona: navigator\n    exec: {source: x}\n"


@pytest.fixture
def with_child(repo):
    (repo / ".wave" / "pipelines").mkdir(parents=True)
    (repo / ".wave" / "pipelines" / "child.yaml").write_text(CHILD)
    return repo


@pytest.mark.parametrize("step", [
    "  - id: s\n    pipeline: child\n    input: '{{ input }}'\n    config: {inject: [items], extract: [x]}\n",
    "  - id: s\n    dependencies: [first]\n    pipeline: '{{ item }}'\n    iterate: {over: '[\"child\"]', mode: parallel, max_concurrent: 2}\n",
    "  - id: s\n    dependencies: [first]\n    branch: {on: '{{ first.output.kind }}', cases: {big: child, default: skip}}\n",
    "  - id: s\n    loop: {max_iterations: 3, until: '{{ c.output.done }}', steps: [{id: again, pipeline: child}]}\n",
    "  - id: s\n    gate: {type: approval, choices: [{key: a, label: Go, target: first}, {key: q, label: Stop, target: _fail}], default: a, timeout: 10s}\n",
    "  - id: s\n    gate: {type: timer, timeout: 1m30s}\n",
    "  - id: s\n    dependencies: [first]\n    aggregate: {from: '{{ first.output }}', into: .agents/output/all.json, strategy: merge_arrays}\n",
    "  - id: s\n    type: conditional\n    dependencies: [first]\n    edges: [{target: first, condition: outcome=failure}, {target: _complete}]\n    max_visits: 3\n",
])
def test_composition_steps_validate_without_persona_or_prompt(with_child, step):
    assert problems_in(with_child, HEAD + step) == []


@pytest.mark.parametrize("step, marker, message", [
    ("  - id: s\n    gate: {type: pr_merge, pr_number: 3}\n", "pr_merge",
     "gate type 'pr_merge' needs network access to the forge, which wave-sandbox steps and the host-side engine do not use"),
    ("  - id: s\n    gate: {type: ci_pass}\n", "ci_pass", "gate type 'ci_pass' needs network access"),
    ("  - id: s\n    gate: {type: timer}\n", "gate:", "a timer gate needs a timeout such as 30s"),
    ("  - id: s\n    pipeline: ../escape\n", "pipeline:", "pipeline '../escape' should be a pipeline's plain name, never a path"),
    ("  - id: s\n    pipeline: nowhere\n", "pipeline:", "no pipeline named 'nowhere' in the repository's"),
    ("  - id: s\n    pipeline: '{{ first.output }}'\n", "pipeline:", "a templated pipeline name is only honoured in an iterate step"),
    ("  - id: s\n    loop: {max_iterations: 500, steps: [{id: a, pipeline: child}]}\n", "max_iterations",
     "max_iterations should be 1 to 50, got 500"),
    ("  - id: s\n    iterate: {over: '[1]'}\n", "iterate", "an iterate step needs a pipeline to run for each item"),
    ("  - id: s\n    type: conditional\n    dependencies: [first]\n    edges: [{target: first}]\n    max_visits: 1000000\n",
     "max_visits", "max_visits should be 0 (Wave's default, 10) to 50, got 1000000"),
    ("  - id: s\n    aggregate: {from: x, into: y.json, strategy: zip}\n", "strategy", "unknown strategy 'zip'"),
    ("  - id: s\n    type: conditional\n", "conditional", "a conditional step needs edges to route by"),
    ("  - id: s\n    type: conditional\n    edges: [{target: first, condition: 'tests passed'}]\n", "tests passed",
     "condition 'tests passed' should read outcome=success, outcome=failure or context.KEY=VALUE"),
    ("  - id: s\n    pipeline: child\n    config: {stop_condition: x}\n", "config", "'stop_condition' is not supported by wave-sandbox yet"),
    ("  - id: s\n    pipeline: child\n    config: {timeout: 30m}\n", "config", "'timeout' is not supported by wave-sandbox yet"),
])
def test_composition_problems_are_one_line_each(with_child, step, marker, message):
    problems = problems_in(with_child, HEAD + step)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"p.yaml:{line_of(HEAD + step, marker)}: steps[1] (s): ")
    assert message in problems[0]


def test_a_graph_visit_budget_has_a_ceiling(with_child):
    # command steps spend no tokens: only the visit caps bound a graph of them
    text = "max_step_visits: 100000\n" + HEAD + "    edges: [{target: first}]\n"
    problems = problems_in(with_child, text)
    assert len(problems) == 1 and "max_step_visits should be 0 (Wave's default, 50) to 200, got 100000" in problems[0], problems


GRAPH_GATE = HEAD + """\
    edges: [{target: s}]
  - id: s
    dependencies: [first]
    gate: {type: approval, auto: true, default: a, choices: [{key: a, label: Again, target: TARGET}]}
  - id: later
    persona: navigator
    dependencies: [s]
    exec: {source: "Later"}
"""


@pytest.mark.parametrize("target", ["first", "s"])
def test_a_gate_in_a_graph_cannot_name_a_step_that_always_ran_before_it(with_child, target):
    # Wave's graph walker follows edges only, and fails a gate whose choice names a visited step
    text = GRAPH_GATE.replace("TARGET", target)
    problems = problems_in(with_child, text)
    assert problems == [f"p.yaml:{line_of(text, 'choices')}: steps[1] (s): gate.choices[0]: target '{target}' has "
                        "always run before this gate, and in a graph pipeline only edges go back to a step that ran: "
                        "route back with an edge"]


def test_a_gate_in_a_graph_may_name_a_step_after_it_and_in_a_dag_any_step(with_child):
    assert problems_in(with_child, GRAPH_GATE.replace("TARGET", "later")) == []
    dag = GRAPH_GATE.replace("TARGET", "first").replace("    edges: [{target: s}]\n", "")
    assert problems_in(with_child, dag) == []


def test_composition_steps_of_every_kind_validate_inside_a_graph(with_child):
    # the graph runs each as one visit: its children, fresh on every visit, before the graph moves on
    steps = HEAD + """\
    edges: [{target: sub}]
  - id: sub
    pipeline: child
    max_visits: 3
    edges: [{target: fan, condition: outcome=success}, {target: sub}]
  - id: fan
    pipeline: '{{ item }}'
    iterate: {over: '["child", "child"]', mode: parallel, max_concurrent: 2}
    edges: [{target: again}]
  - id: again
    loop: {max_iterations: 2, steps: [{id: twice, pipeline: child}]}
    edges: [{target: pick}]
  - id: pick
    branch: {on: '{{ input }}', cases: {big: child, default: skip}}
"""
    assert problems_in(with_child, steps) == []
