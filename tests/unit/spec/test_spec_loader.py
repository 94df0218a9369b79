"""Finding pipelines (paths, repository folders, built-ins), listing them, and the built-ins themselves."""

import hashlib
from pathlib import Path

import pytest

from wave_sandbox.errors import ConfigurationError, PipelineNotFoundError
from wave_sandbox.resources import builtin_pipelines_dir
from wave_sandbox.spec.loader import find_pipeline_file, list_pipelines, load_pipeline, repository_folder
from wave_sandbox.spec.yaml_loader import parse_yaml
from wave_sandbox.settings import combine_policies

from .helpers import BASE, variant

CEILINGS = combine_policies([])  # the built-in ceilings, as with no policy file

SEED = Path("/work/shared/seed/incident-response.md")  # the user's request; absent outside the workshop
SEED_YAML_COPY = Path(__file__).parent / "seed" / "incident-response.seed.yaml"
SEED_YAML_SHA256 = "bd80c9513fb76520458a04437118ee024941be3ab041645424db6aeb8aab5bd1"


def put(repo: Path, relative: str, text: str = BASE) -> Path:
    path = repo / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_name_falls_back_to_the_built_ins(repo):
    assert find_pipeline_file("incident-response", repo) == builtin_pipelines_dir() / "incident-response.yaml"


def test_agents_folder_beats_the_built_ins_and_wave_folder_beats_both(repo):
    agents = put(repo, ".agents/pipelines/incident-response.yaml")
    assert find_pipeline_file("incident-response", repo) == agents
    wave = put(repo, ".wave/pipelines/incident-response.yaml")
    assert find_pipeline_file("incident-response", repo) == wave


def test_yml_files_are_found_by_name(repo):
    found = put(repo, ".agents/pipelines/custom.yml")
    assert find_pipeline_file("custom", repo) == found


@pytest.mark.parametrize("argument", ["pipelines/mine.yaml", "./mine.yaml", "mine.yaml", "mine.yml"])
def test_a_path_is_taken_relative_to_the_cwd_not_looked_up(repo, argument):
    put(repo, argument)
    assert find_pipeline_file(argument, repo) == Path(argument)


def test_a_path_wins_over_a_name_of_the_same_stem(repo):
    put(repo, ".wave/pipelines/incident-response.yaml")
    with pytest.raises(PipelineNotFoundError, match="no pipeline file at incident-response.yaml"):
        find_pipeline_file("incident-response.yaml", repo)


def test_unknown_name_says_where_it_looked_and_what_exists(repo):
    with pytest.raises(PipelineNotFoundError) as raised:
        find_pipeline_file("incident", repo)
    message = str(raised.value)
    assert "no pipeline named 'incident'" in message and ".wave/pipelines" in message and ".agents/pipelines" in message
    assert "incident-response, incident-triage" in message


def test_the_pipeline_name_is_its_metadata_name_not_its_file_name(repo):
    loaded = load_pipeline(put(repo, "other-file-name.yaml"), repo, CEILINGS)
    assert loaded.name == "sample"
    assert [step.id for step in loaded.pipeline.steps] == ["triage", "investigate"]
    assert set(loaded.personas) == {"navigator", "auditor"}


def test_prompt_template_reads_inline_source_or_the_file(repo):
    put(repo, "prompts/investigate.md", "Investigate {{ input }} carefully\n")
    text = variant('      source: "Investigate"\n', "      source_path: prompts/investigate.md\n")
    loaded = load_pipeline(put(repo, "p.yaml", text), repo, CEILINGS)
    triage, investigate = loaded.pipeline.steps
    assert loaded.prompt_template(triage) == "Triage {{ input }}"
    assert loaded.prompt_template(investigate) == "Investigate {{ input }} carefully\n"


def test_missing_repository_folder_is_a_configuration_error(repo):
    with pytest.raises(ConfigurationError, match="does not exist"):
        repository_folder(repo / "nowhere")
    with pytest.raises(ConfigurationError):
        load_pipeline(builtin_pipelines_dir() / "incident-response.yaml", repo / "nowhere", CEILINGS)
    assert repository_folder(None) == repo


def test_list_shows_built_ins_and_repository_pipelines_first_match_wins(repo):
    put(repo, ".wave/pipelines/incident-triage.yaml", "metadata: {description: Our own triage}\n")
    put(repo, ".agents/pipelines/incident-triage.yaml")
    put(repo, ".agents/pipelines/broken.yaml", "steps: [\n")
    listings = {listing.name: listing for listing in list_pipelines(repo)}
    assert set(listings) == {"incident-response", "incident-triage", "broken"}
    assert listings["incident-triage"].origin == ".wave/pipelines"
    assert listings["incident-triage"].description == "Our own triage"
    assert listings["incident-response"].origin == "built-in"
    assert listings["incident-response"].description == "Rapid incident investigation and remediation"
    assert "cannot be read" in listings["broken"].description


def without_handover_blocks(text: str) -> str:
    """`text` minus every step's `handover:` block (the key and the lines indented below it)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("    handover:"):
            skipping = True
            continue
        if skipping and (line.startswith("      ") or not line.strip()):
            if line.strip():
                continue
        skipping = False
        kept.append(line)
    return "".join(kept)


def test_the_seed_copy_is_the_seed_yaml_byte_for_byte():
    assert hashlib.sha256(SEED_YAML_COPY.read_bytes()).hexdigest() == SEED_YAML_SHA256


@pytest.mark.skipif(not SEED.is_file(), reason="the seed document is not on this machine")
def test_the_seed_copy_is_the_yaml_of_the_seed_document():
    seed = SEED.read_text()
    start = seed.index("```yaml\nkind: WavePipeline\nmetadata:\n  name: incident-response") + len("```yaml\n")
    assert SEED_YAML_COPY.read_text() == seed[start:seed.index("```\n", start)]


def test_built_in_incident_response_is_the_seed_plus_contracts_only():
    built_in = (builtin_pipelines_dir() / "incident-response.yaml").read_text()
    assert without_handover_blocks(built_in) == SEED_YAML_COPY.read_text()
    steps = parse_yaml(built_in).data["steps"]
    assert all("handover" in step for step in steps)


def test_the_seed_copy_without_contracts_still_validates(repo):
    copy = repo / "seed.yaml"
    copy.write_bytes(SEED_YAML_COPY.read_bytes())
    loaded = load_pipeline(copy, repo, CEILINGS)
    assert loaded.name == "incident-response" and len(loaded.pipeline.steps) == 5
    assert all(step.handover is None for step in loaded.pipeline.steps)


def test_built_in_incident_triage_is_the_triage_step_alone():
    response = parse_yaml(SEED_YAML_COPY.read_text()).data
    triage = parse_yaml((builtin_pipelines_dir() / "incident-triage.yaml").read_text()).data
    assert triage["metadata"] == {"name": "incident-triage", "description": "Quick incident triage"}
    assert {key: value for key, value in triage["steps"][0].items() if key != "handover"} == response["steps"][0]
    assert len(triage["steps"]) == 1


@pytest.mark.parametrize("name, steps", [("incident-response", 5), ("incident-triage", 1)])
def test_built_ins_validate_against_an_empty_repository(repo, name, steps):
    loaded = load_pipeline(find_pipeline_file(name, repo), repo, CEILINGS)
    assert loaded.name == name and len(loaded.pipeline.steps) == steps


def test_seed_pipeline_shape():
    loaded = load_pipeline(builtin_pipelines_dir() / "incident-response.yaml", Path.cwd(), CEILINGS)
    steps = {step.id: step for step in loaded.pipeline.steps}
    assert [s.persona for s in steps.values()] == ["navigator", "auditor", "philosopher", "craftsman", "summarizer"]
    assert [s.id for s in steps.values() if s.is_readwrite] == ["remediate"]
    assert steps["root-cause"].mounts == []
    assert [(i.step, i.artifact, i.as_) for i in steps["postmortem"].memory.inject_artifacts] == [
        ("triage", "triage", "triage"), ("root-cause", "root-cause", "analysis"), ("remediate", "fix", "remediation")]
    assert [a.path for s in steps.values() for a in s.output_artifacts] == [
        "output/triage.json", "output/investigation.md", "output/root-cause.md", "output/remediation.md",
        "output/incident-report.md"]
