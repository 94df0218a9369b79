"""Strict parsing: unknown keys, missing fields and wrong types name the file, line and place."""

from wave_sandbox.spec.loader import load_pipeline
from wave_sandbox.spec.models import Exec, Memory, Mount, OutputArtifact, Step
from wave_sandbox.settings import combine_policies

from .helpers import BASE, line_of, problems_in, variant, write_pipeline

CEILINGS = combine_policies([])  # the built-in ceilings, as with no policy file


def test_unknown_step_key_names_file_line_step_and_place(repo):
    text = variant("      mount:\n", "      mnt: []\n      mount:\n")
    line = line_of(text, "mnt:")
    assert problems_in(repo, text) == [
        f"p.yaml:{line}: steps[0] (triage): workspace: unknown field 'mnt' (did you mean 'mount'?)"
    ]


def test_unknown_key_directly_in_a_step(repo):
    text = variant("    persona: auditor\n", "    persona: auditor\n    personna: x\n")
    line = line_of(text, "personna:")
    assert problems_in(repo, text) == [f"p.yaml:{line}: steps[1] (investigate): unknown field 'personna' (did you mean 'persona'?)"]


def test_unknown_top_level_and_metadata_keys_have_no_step_place(repo):
    text = variant("  name: sample\n", "  name: sample\n  owner: sre\n") + "stepz: []\n"
    assert problems_in(repo, text) == [
        f"p.yaml:{line_of(text, 'owner:')}: metadata: unknown field 'owner'",
        f"p.yaml:{line_of(text, 'stepz:')}: unknown field 'stepz' (did you mean 'steps'?)",
    ]


def test_unknown_keys_in_list_items_name_the_item(repo):
    text = variant("          mode: readonly\n", "          mode: readonly\n          readonly: true\n")
    text = variant("          as: triage\n", "          as: triage\n          alias: t\n", text)
    problems = problems_in(repo, text)
    assert f"p.yaml:{line_of(text, 'readonly: true')}: steps[0] (triage): workspace.mount[0]: unknown field 'readonly'" in problems
    assert f"p.yaml:{line_of(text, 'alias: t')}: steps[1] (investigate): memory.inject_artifacts[0]: unknown field 'alias'" in problems


def test_missing_required_field_points_at_its_parent(repo):
    text = variant("        - step: triage\n          artifact: triage\n", "        - step: triage\n")
    line = line_of(text, "- step: triage")
    assert problems_in(repo, text) == [
        f"p.yaml:{line}: steps[1] (investigate): memory.inject_artifacts[0]: missing required field 'artifact'"
    ]


def test_step_without_id_is_placed_by_index(repo):
    text = variant("  - id: investigate\n    persona: auditor\n", "  - persona: auditor\n")
    problems = problems_in(repo, text)
    assert f"p.yaml:{line_of(text, '- persona: auditor')}: steps[1]: missing required field 'id'" in problems


def test_wrong_types_say_what_was_expected_and_what_came(repo):
    text = variant("    dependencies: [triage]\n", "    dependencies: triage\n    timeout_minutes: soon\n")
    problems = problems_in(repo, text)
    assert f"p.yaml:{line_of(text, 'dependencies:')}: steps[1] (investigate): dependencies: should be a list, got 'triage'" in problems
    timeout_problem = next(p for p in problems if "timeout_minutes" in p)
    assert timeout_problem.startswith(f"p.yaml:{line_of(text, 'timeout_minutes')}: steps[1] (investigate): timeout_minutes: should be a valid number")
    assert timeout_problem.endswith("got 'soon'")


def test_literal_fields_list_the_allowed_values(repo):
    text = variant("kind: WavePipeline", "kind: Pipeline")
    text = variant("mode: readonly", "mode: rw", text)
    problems = problems_in(repo, text)
    assert "p.yaml:1: kind: should be 'WavePipeline', got 'Pipeline'" in problems
    assert f"p.yaml:{line_of(text, 'mode: rw')}: steps[0] (triage): workspace.mount[0].mode: should be 'readonly' or 'readwrite', got 'rw'" in problems


def test_a_file_that_is_not_a_mapping_or_not_yaml(repo):
    assert problems_in(repo, "- just\n- a list\n") == ["p.yaml:1: a pipeline should be a mapping with kind, metadata and steps"]
    problem, = problems_in(repo, "kind: WavePipeline\nsteps: [\n")
    assert problem.startswith("p.yaml:") and "invalid YAML" in problem


def test_duplicate_keys_are_problems(repo):
    text = variant("    persona: navigator\n", "    persona: navigator\n    persona: auditor\n")
    assert problems_in(repo, text) == [f"p.yaml:{line_of(text, 'persona: auditor', 1)}: steps[0] (triage): duplicate key 'persona'"]


def test_problems_are_sorted_by_line_and_all_reported(repo):
    text = variant("  name: sample\n", "  name: sample\n  owner: x\n")
    text = variant("          as: triage\n", "          as: triage\n          alias: t\n", text)
    text = variant("      mount:\n", "      mnt: []\n      mount:\n", text)
    problems = problems_in(repo, text)
    lines = [int(problem.split(":")[1]) for problem in problems]
    assert len(problems) == 3 and lines == sorted(lines)


def test_a_malformed_step_does_not_hide_semantic_problems_elsewhere(repo):
    text = variant("      mount:\n", "      mnt: []\n      mount:\n")
    text = variant("    dependencies: [triage]\n", "    dependencies: [triage, ghost]\n", text)
    text = variant("          target: /src\n", "          target: /workspace/src\n", text)
    problems = problems_in(repo, text)
    assert any("unknown step 'ghost'" in p for p in problems)
    assert any("steps[0] (triage): workspace.mount[0]: target '/workspace/src' lies under /workspace" in p for p in problems)


def test_every_wave_field_parses_and_only_the_unhonoured_are_refused(repo):
    text = """\
kind: WavePipeline
metadata: {name: everything, description: d, release: true, category: ops, disabled: false}
input: {source: cli, type: string, schema: {type: string, description: d}, example: e, label_filter: l, batch_size: 2, path: p}
hooks: {on_start: [echo]}
pipeline_outputs: {report: {step: a, artifact: r}}
skills: [speckit]
requires: {skills: [speckit], tools: [git]}
max_step_visits: 20
chat_context: {focus_areas: [x]}
steps:
  - id: a
    persona: navigator
    adapter: claude
    model: claude-sonnet-4-5
    dependencies: []
    optional: true
    timeout_minutes: 5
    type: conditional
    script: echo hi
    exec: {type: prompt, source: go, source_path: null, command: /x, args: y}
    memory:
      strategy: fresh
      inject_artifacts: []
    workspace:
      root: ./
      mount: [{source: ./, target: /src, mode: readonly}]
      type: worktree
      branch: b
      base: main
      ref: a
    output_artifacts: [{name: r, path: out/r.md, type: markdown, required: true, source: file}]
    outcomes: [{type: pr, extract_from: out/r.json, json_path: .url}]
    handover: {contract: {type: typescript_interface, source: x}, contracts: [], compaction: {trigger: t}}
    retry: {policy: standard, max_attempts: 3, backoff: linear, base_delay: 1s, max_delay: 30s, on_failure: skip}
    rework_only: true
    permissions: {allowed_tools: [Read, Grep], deny: ["Bash(rm *)"]}
    thread: t
    fidelity: full
    concurrency: 2
    strategy: {type: matrix, items_source: x, item_key: k}
    edges: [{target: a, condition: outcome=success}]
    max_visits: 3
    pipeline: "{{ item }}"
    input: "{{ input }}"
    config: {extract: [r]}
    iterate: {over: '["x"]', mode: parallel}
    branch: {on: x, cases: {a: skip}}
    gate: {type: approval}
    loop: {max_iterations: 2}
    aggregate: {from: x, into: y, strategy: concat}
    validation: [{type: file_exists, target: x}]
"""
    (repo / "skills" / "speckit").mkdir(parents=True)
    (repo / "skills" / "speckit" / "SKILL.md").write_text("---\nname: speckit\ndescription: d\n---\nbody\n")
    problems = problems_in(repo, text)
    assert problems, "the unhonoured fields must be refused"
    assert not [p for p in problems if "unknown field" in p or "should be" in p], problems
    refused = [p for p in problems if "is not supported by wave-sandbox yet" in p]
    assert len(refused) == len(problems), problems
    for feature in ("type 'typescript_interface'", "'hooks'"):
        assert any(feature in p for p in refused), feature
    for honoured in ("'compaction'", "'deny'", "'thread'", "'fidelity'", "'outcomes'", "'skills'", "'requires'",
                     "'adapter'", "'pipeline_outputs'", "'chat_context'", "input: 'type'"):
        assert not any(honoured in p for p in refused), honoured


def test_defaults_of_exec_memory_mount_and_artifacts():
    step = Step.model_validate({"id": "a", "persona": "navigator", "exec": {"source": "x"},
                                "workspace": {"mount": [{"source": "./", "target": "/src"}]},
                                "output_artifacts": [{"name": "n", "path": "out/n.md"}]})
    assert step.exec == Exec(source="x") and step.exec.type == "prompt"
    assert step.memory == Memory() and step.memory.strategy == "fresh"
    assert step.mounts == [Mount(source="./", target="/src", mode="readonly")]
    assert not step.is_readwrite
    assert step.output_artifacts == [OutputArtifact(name="n", path="out/n.md", required=True)]


def test_readwrite_mount_makes_the_step_readwrite(repo):
    text = variant("mode: readonly", "mode: readwrite")
    loaded = load_pipeline(write_pipeline(repo, text), repo, CEILINGS)
    assert loaded.pipeline.steps[0].is_readwrite and not loaded.pipeline.steps[1].is_readwrite


def test_base_pipeline_loads(repo):
    assert problems_in(repo, BASE) == []


def test_a_malformed_exec_or_persona_is_reported_once(repo):
    text = variant('    exec:\n      source: "Investigate"\n', '    exec: "Investigate"\n')
    text = variant("    persona: navigator\n", "    persona: [navigator]\n", text)
    exec_line = line_of(text, 'exec: "Investigate"')
    assert problems_in(repo, text) == [
        f"p.yaml:{line_of(text, 'persona: [navigator]')}: steps[0] (triage): persona: should be a string, got a list",
        f"p.yaml:{exec_line}: steps[1] (investigate): exec: should be a mapping (key: value lines), got 'Investigate'",
    ]
