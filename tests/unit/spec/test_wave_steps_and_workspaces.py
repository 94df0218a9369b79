"""Wave command steps, worktree workspaces and subset_from validate as Wave's do (issue 11, items 6 and 8)."""

from wave_sandbox.spec.models import Step

from .helpers import BASE, line_of, problems_in, variant

COMMAND_STEP = """\
  - id: gather
    type: command
    dependencies: [triage]
    script: |
      jq . "$WAVE_DEP_TRIAGE_TRIAGE" > .agents/output/gathered.json
    output_artifacts:
      - name: gathered
        path: .agents/output/gathered.json
        type: json
"""


def test_a_command_step_needs_no_persona_and_no_prompt(repo):
    assert problems_in(repo, BASE + COMMAND_STEP) == []


def test_a_command_step_without_a_script_is_refused_at_its_step(repo):
    text = BASE + COMMAND_STEP.replace('    script: |\n      jq . "$WAVE_DEP_TRIAGE_TRIAGE" > .agents/output/gathered.json\n', "")
    assert problems_in(repo, text) == [
        f"p.yaml:{line_of(text, '- id: gather')}: steps[2] (gather): a command step needs a script: "
        "`script:` (with type: command) or exec.command"
    ]


def test_exec_type_command_with_a_command_is_a_command_step(repo):
    text = BASE + "  - id: lint\n    exec: {type: command, command: 'echo', args: 'hi'}\n"
    assert problems_in(repo, text) == []


def test_worktree_workspace_with_branch_and_base_validates_and_mounts_the_clone(repo):
    text = variant("    workspace:\n      mount:\n        - source: ./\n          target: /src\n          mode: readonly\n",
                   "    workspace:\n      type: worktree\n      branch: \"{{ pipeline_id }}\"\n      base: main\n")
    assert problems_in(repo, text) == []
    step = Step.model_validate({"id": "a", "persona": "craftsman", "exec": {"source": "x"},
                                "workspace": {"type": "worktree", "branch": "b"}})
    assert step.is_readwrite and [(m.target, m.mode) for m in step.container_mounts] == [("/src", "readwrite")]
    assert step.mounts == []  # validation's places stay those of the declared mounts


def test_worktree_beside_a_read_only_src_gets_another_target():
    step = Step.model_validate({"id": "a", "persona": "craftsman", "exec": {"source": "x"},
                                "workspace": {"type": "worktree", "mount": [{"source": "./", "target": "/src"}]}})
    assert [(m.target, m.mode) for m in step.container_mounts] == [("/src", "readonly"), ("/worktree", "readwrite")]


def test_subset_from_is_checked_for_its_form_only(repo):
    mount = "          mode: readonly\n"
    good = BASE + COMMAND_STEP + (
        "  - id: review\n    persona: auditor\n    dependencies: [gather]\n    workspace:\n      mount:\n"
        "        - source: ./\n          target: /src\n          subset_from: gather.gathered.files\n"
        "    exec: {source: review}\n")
    assert problems_in(repo, good) == []
    # Wave's audit pipelines name a step of the pipeline that calls them: at run time the whole source is mounted
    assert problems_in(repo, good.replace("gather.gathered.files", "fetch-pr.pr-context.changed_files")) == []
    bad = variant(mount, mount + "          subset_from: triage.files\n")
    assert problems_in(repo, bad) == [
        f"p.yaml:{line_of(bad, 'subset_from')}: steps[0] (triage): workspace.mount[0]: "
        "subset_from 'triage.files' should be '<step>.<artifact>.<json-path>'"]
