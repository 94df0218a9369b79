"""Semantic rules: each problem names the right file, line and step place."""

import os

import pytest

from .helpers import BASE, line_of, problems_in, variant

SECOND_STEP_DEPS = "    dependencies: [triage]\n"


def only_problem(repo, text):
    problems = problems_in(repo, text)
    assert len(problems) == 1, problems
    return problems[0]


def three_steps(review_dependencies: str, triage_dependencies: str = "") -> str:
    text = BASE + """\
  - id: review
    persona: philosopher
    dependencies: %s
    exec:
      source: "Review"
""" % review_dependencies
    if triage_dependencies:
        text = variant("    persona: navigator\n", f"    persona: navigator\n    dependencies: {triage_dependencies}\n", text)
    return text


def test_duplicate_step_id_points_at_the_second_id(repo):
    text = variant("  - id: investigate\n", "  - id: triage\n")
    text = variant("    dependencies: [triage]\n", "", text)
    text = variant("        - step: triage\n          artifact: triage\n          as: triage\n", "", text)
    problems = problems_in(repo, text)
    assert f"p.yaml:{line_of(text, '- id: triage', 2)}: steps[1] (triage): id: duplicate step id 'triage' (also steps[0])" in problems


def test_unknown_dependency_points_at_the_item(repo):
    text = variant(SECOND_STEP_DEPS, "    dependencies:\n      - triage\n      - ghost\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, '- ghost')}: steps[1] (investigate): dependencies: unknown step 'ghost'"


def test_two_step_cycle_is_named(repo):
    text = three_steps("[investigate]", triage_dependencies="[review]")
    problem = only_problem(repo, text)
    assert problem.startswith(f"p.yaml:{line_of(text, 'dependencies: [review]')}: steps[0] (triage): dependencies: cycle: triage -> investigate -> review -> triage")


def test_self_dependency_is_a_cycle(repo):
    text = variant(SECOND_STEP_DEPS, "    dependencies: [triage, investigate]\n")
    problem = only_problem(repo, text)
    assert problem.startswith(f"p.yaml:{line_of(text, 'dependencies: [triage, investigate]')}: steps[1] (investigate): dependencies: cycle: investigate -> investigate")


def test_mutual_cycle_reads_a_to_b_to_a(repo):
    text = variant(SECOND_STEP_DEPS, "    dependencies: [triage]\n")
    text = variant("    persona: navigator\n", "    persona: navigator\n    dependencies: [investigate]\n", text)
    assert "cycle: triage -> investigate -> triage" in only_problem(repo, text)


def test_injecting_from_a_step_that_is_not_upstream(repo):
    text = three_steps("[triage]")
    text = variant('      source: "Review"\n', '      source: "Review"\n    memory:\n      inject_artifacts:\n        - {step: investigate, artifact: investigation, as: evidence}\n', text)
    line = line_of(text, "- {step: investigate")
    assert only_problem(repo, text) == (
        f"p.yaml:{line}: steps[2] (review): memory.inject_artifacts[0]: step 'investigate' is not upstream of 'review': "
        "add it to dependencies, directly or through another step"
    )


def test_injecting_from_two_steps_up_is_fine(repo):
    text = three_steps("[investigate]")
    text = variant('      source: "Review"\n', '      source: "Review"\n    memory:\n      inject_artifacts:\n        - {step: triage, artifact: triage, as: triage}\n', text)
    assert problems_in(repo, text) == []


def test_injecting_an_artifact_the_step_does_not_declare(repo):
    text = variant("          artifact: triage\n", "          artifact: triage-report\n")
    assert only_problem(repo, text) == (
        f"p.yaml:{line_of(text, 'artifact: triage-report')}: steps[1] (investigate): memory.inject_artifacts[0]: "
        "step 'triage' declares no artifact 'triage-report' (it declares: triage)"
    )


def test_an_injections_type_is_checked_against_the_type_its_step_declares(repo):
    """Wave's inject `type`: the expected type of the artifact; a different declared type fails the step
    ("artifact type mismatch"), which is known before the run, so it is a validation problem here."""
    assert problems_in(repo, variant("          as: triage\n", "          as: triage\n          type: json\n")) == []
    text = variant("          as: triage\n", "          as: triage\n          type: markdown\n")
    assert only_problem(repo, text) == (
        f"p.yaml:{line_of(text, 'type: markdown', 1)}: steps[1] (investigate): memory.inject_artifacts[0]: "
        "type 'markdown' does not match the type step 'triage' declares for artifact 'triage' (json); "
        "Wave fails the step with an artifact type mismatch"
    )
    untyped = variant("        type: json\n", "", variant("          as: triage\n", "          as: triage\n          type: markdown\n"))
    assert problems_in(repo, untyped) == []  # an artifact without a declared type matches any, as in Wave


def test_injecting_from_an_unknown_step(repo):
    text = variant("        - step: triage\n", "        - step: ghost\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, '- step: ghost')}: steps[1] (investigate): memory.inject_artifacts[0]: step 'ghost' does not exist"


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".hidden"])
def test_injected_as_must_be_a_plain_file_name(repo, name):
    text = variant("          as: triage\n", f"          as: '{name}'\n")
    assert f"memory.inject_artifacts[0]: as '{name}' should be a plain file name" in only_problem(repo, text)


def test_two_injections_with_the_same_as(repo):
    text = variant("          as: triage\n", "          as: triage\n        - {step: triage, artifact: triage, as: triage}\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, '- {step: triage')}: steps[1] (investigate): memory.inject_artifacts[1]: as 'triage' is used twice in this step"


@pytest.mark.parametrize("path, message", [
    ("/tmp/triage.json", "path '/tmp/triage.json' should be relative to /workspace, e.g. output/triage.json"),
    ("../triage.json", "path '../triage.json' should name a file inside /workspace"),
    ("output/../../triage.json", "path 'output/../../triage.json' should name a file inside /workspace"),
    ("output/", "path 'output/' should name a file inside /workspace"),
])
def test_artifact_paths_stay_inside_workspace(repo, path, message):
    text = variant("        path: output/triage.json\n", f"        path: '{path}'\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, 'path: ' + repr(path))}: steps[0] (triage): output_artifacts[0]: {message}"


def test_two_artifacts_with_the_same_path(repo):
    text = variant("        path: output/investigation.md\n", "        path: ./output/triage.json\n")
    assert only_problem(repo, text) == (
        f"p.yaml:{line_of(text, './output/triage.json')}: steps[1] (investigate): output_artifacts[0]: "
        "path 'output/triage.json' is also written by steps[0] (triage) artifact 'triage'"
    )


def test_two_artifacts_with_the_same_file_name_would_collide_in_output(repo):
    text = variant("        path: output/investigation.md\n", "        path: notes/triage.json\n")
    assert only_problem(repo, text) == (
        f"p.yaml:{line_of(text, 'notes/triage.json')}: steps[1] (investigate): output_artifacts[0]: "
        "file name 'triage.json' is also used by steps[0] (triage) artifact 'triage'; they would collide in --output"
    )


def test_artifact_name_declared_twice_in_one_step(repo):
    text = variant("        type: markdown\n", "        type: markdown\n      - {name: investigation, path: output/other.md}\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, '{name: investigation')}: steps[1] (investigate): output_artifacts[1]: artifact 'investigation' is declared twice in this step"


def test_artifact_without_path(repo):
    text = variant("        path: output/investigation.md\n", "")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, '- name: investigation')}: steps[1] (investigate): output_artifacts[0]: missing required field 'path'"


@pytest.mark.parametrize("source", ["../", "/etc", "src/../.."])
def test_mount_source_outside_the_repository(repo, source):
    text = variant("        - source: ./\n", f"        - source: '{source}'\n")
    problem = only_problem(repo, text)
    assert problem.startswith(f"p.yaml:{line_of(text, '- source:')}: steps[0] (triage): workspace.mount[0]: source '{source}' resolves outside the repository")


def test_mount_source_through_a_symlink_leaving_the_repository(repo, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    os.symlink(outside, repo / "sneaky")
    text = variant("        - source: ./\n", "        - source: ./sneaky\n")
    assert "source './sneaky' resolves outside the repository" in only_problem(repo, text)


def test_mount_source_must_exist(repo):
    text = variant("        - source: ./\n", "        - source: ./nowhere\n")
    assert only_problem(repo, text).endswith("workspace.mount[0]: source './nowhere' is not a folder of the repository")


def test_mount_of_a_subfolder_is_fine(repo):
    assert problems_in(repo, variant("        - source: ./\n", "        - source: src\n")) == []


@pytest.mark.parametrize("target, message", [
    ("src", "target 'src' should be an absolute path such as /src"),
    ("/workspace", "target '/workspace' lies under /workspace, which wave-sandbox manages"),
    ("/workspace/code", "target '/workspace/code' lies under /workspace, which wave-sandbox manages"),
    ("/wave/artifacts", "target '/wave/artifacts' lies under /wave, which wave-sandbox manages"),
    ("/src/../wave", "target '/src/../wave' lies under /wave, which wave-sandbox manages"),
    ("//wave", "target '//wave' lies under /wave, which wave-sandbox manages"),  # POSIX keeps a leading //
    ("//workspace/x", "target '//workspace/x' lies under /workspace, which wave-sandbox manages"),
    ("/", "target '/' would hide the container's whole filesystem"),
    ("/proc", "target '/proc' lies under /proc, which the container itself needs; use a folder such as /src"),
    ("/dev/shm", "target '/dev/shm' lies under /dev, which the container itself needs; use a folder such as /src"),
    ("/usr/bin", "target '/usr/bin' lies under /usr, which the container itself needs; use a folder such as /src"),
    ("/src/../etc", "target '/src/../etc' lies under /etc, which the container itself needs; use a folder such as /src"),
    ("//sys/fs", "target '//sys/fs' lies under /sys, which the container itself needs; use a folder such as /src"),
    ("/tmp/data", "target '/tmp/data' lies under /tmp, which the container itself needs; use a folder such as /src"),
    ("/home/wave", "target '/home/wave' lies under /home, which the container itself needs; use a folder such as /src"),
    ("/opt/wave-sandbox", "target '/opt/wave-sandbox' lies under /opt/wave-sandbox, which the container itself "
                          "needs; use a folder such as /src"),
    ("/.dockerenv", "target '/.dockerenv' lies under /.dockerenv, which the container itself needs; use a folder "
                    "such as /src"),
])
def test_mount_target_must_be_absolute_and_outside_managed_folders(repo, target, message):
    text = variant("          target: /src\n", f"          target: '{target}'\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, 'target:')}: steps[0] (triage): workspace.mount[0]: {message}"


def test_mount_target_sharing_only_a_prefix_with_workspace_is_fine(repo):
    assert problems_in(repo, variant("          target: /src\n", "          target: /workspaces\n")) == []


def test_same_target_mounted_twice(repo):
    text = variant("          mode: readonly\n", "          mode: readonly\n        - {source: src, target: /src/}\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, '{source: src')}: steps[0] (triage): workspace.mount[1]: target '/src' is mounted twice"


def test_unknown_persona_lists_the_available_ones(repo):
    text = variant("    persona: auditor\n", "    persona: detective\n")
    assert only_problem(repo, text) == (
        f"p.yaml:{line_of(text, 'persona: detective')}: steps[1] (investigate): persona: unknown persona 'detective' "
        "(available: auditor, craftsman, navigator, philosopher, summarizer)"
    )


def test_persona_defined_by_the_repository_is_known(repo):
    (repo / ".wave" / "personas").mkdir(parents=True)
    (repo / ".wave" / "personas" / "detective.md").write_text("You investigate.\n")
    assert problems_in(repo, variant("    persona: auditor\n", "    persona: detective\n")) == []


def test_step_without_persona(repo):
    text = variant("    persona: auditor\n", "")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, '- id: investigate')}: steps[1] (investigate): missing required field 'persona'"


def test_broken_persona_override_is_reported_with_its_own_file_and_line(repo):
    (repo / ".wave" / "personas").mkdir(parents=True)
    (repo / ".wave" / "personas" / "auditor.yaml").write_text("max_turns: 10\nlimits:\n  gpus: 1\n")
    assert problems_in(repo, BASE) == [".wave/personas/auditor.yaml:3: limits: unknown field 'gpus' (did you mean 'cpus'?)"]


def test_unknown_and_wave_only_template_variables(repo):
    text = variant('      source: "Triage {{ input }}"\n', '      source: "Triage {{input}} {{ task }} {{ inptu }}"\n')
    line = line_of(text, "{{ task }}")
    assert problems_in(repo, text) == [  # an unknown {{ inptu }} is left in the prompt, as Wave leaves it
        f"p.yaml:{line}: steps[0] (triage): exec.source: template variable 'task' is not supported by wave-sandbox yet",
    ]


def test_every_supported_template_variable_is_accepted(repo):
    source = "{{ input }} {{input}} {{ pipeline_id }} {{ pipeline_name }} {{ step_id }} {{ run.id }}"
    assert problems_in(repo, variant('"Triage {{ input }}"', f'"{source}"')) == []


def test_prompt_from_a_file_is_checked_for_templates(repo):
    (repo / "prompts").mkdir()
    (repo / "prompts" / "triage.md").write_text("Triage {{ input }} by {{ item.owner }}\n")
    text = variant('      source: "Triage {{ input }}"\n', "      source_path: prompts/triage.md\n")
    assert only_problem(repo, text).startswith(
        f"p.yaml:{line_of(text, 'source_path:')}: steps[0] (triage): exec.source_path: template variable 'item.owner'"
    )


@pytest.mark.parametrize("source_path, message", [
    ("prompts/none.md", "exec: source_path 'prompts/none.md': no such file in the repository"),
    ("../outside.md", "exec: source_path '../outside.md' lies outside the repository"),
])
def test_prompt_file_must_exist_inside_the_repository(repo, source_path, message):
    text = variant('      source: "Triage {{ input }}"\n', f"      source_path: {source_path}\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, 'source_path:')}: steps[0] (triage): {message}"


def test_step_needs_exactly_one_prompt_source(repo):
    both = variant('      source: "Investigate"\n', '      source: "Investigate"\n      source_path: p.md\n')
    assert only_problem(repo, both) == f"p.yaml:{line_of(both, 'source_path:')}: steps[1] (investigate): exec: give exec.source or exec.source_path, not both"
    neither = variant('    exec:\n      source: "Investigate"\n', "")
    assert only_problem(repo, neither) == (
        f"p.yaml:{line_of(neither, '- id: investigate')}: steps[1] (investigate): needs a prompt: exec.source (inline) or exec.source_path (a file)"
    )


def test_names_that_become_folders_and_branches_must_be_plain(repo):
    text = variant("  name: sample\n", "  name: 'my pipeline'\n")
    text = variant("  - id: investigate\n", "  - id: '../investigate'\n", text)
    problems = problems_in(repo, text)
    assert f"p.yaml:3: metadata: name 'my pipeline' should be letters, digits, '.', '_' or '-' (it names the run branch)" in problems
    assert any(p.startswith(f"p.yaml:{line_of(text, '../investigate')}: steps[1] (../investigate): id: step id '../investigate' should be") for p in problems)


def test_disabled_pipeline_is_refused(repo):
    text = variant("  name: sample\n", "  name: sample\n  disabled: true\n")
    assert only_problem(repo, text) == "p.yaml:4: metadata.disabled: this pipeline is disabled; set disabled to false to run it"


def test_timeout_must_be_positive(repo):
    text = variant("    persona: navigator\n", "    persona: navigator\n    timeout_minutes: 0\n")
    assert only_problem(repo, text) == f"p.yaml:{line_of(text, 'timeout_minutes')}: steps[0] (triage): timeout_minutes: should be more than 0, got 0"


def test_pipeline_without_steps(repo):
    assert problems_in(repo, "kind: WavePipeline\nmetadata: {name: empty}\nsteps: []\n") == ["p.yaml:3: steps: the pipeline has no steps"]


def test_an_empty_inline_prompt(repo):
    text = variant('      source: "Investigate"\n', '      source: "  "\n')
    line = line_of(text, 'source: "  "')
    assert only_problem(repo, text) == f"p.yaml:{line}: steps[1] (investigate): exec: the prompt is empty"
