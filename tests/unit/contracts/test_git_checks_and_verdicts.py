"""source_diff / test_diff counting, the judge's and the reviewer's verdicts read as data."""

from __future__ import annotations

import json

from wave_sandbox.contracts.git_checks import (
    count_declarations, is_test_file, net_deletion_problem, source_diff_problems, declaration_pattern,
)
from wave_sandbox.engine.agent_review import parse_review
from wave_sandbox.engine.llm_judge import judged


def test_source_diff_counts_qualifying_files():
    changed = ["specs/plan.md", ".agents/x.yaml", "internal/app.go"]
    assert source_diff_problems(changed, "*.go", ["specs/**"], None) == []
    assert source_diff_problems(changed, None, ["specs/**", ".agents/**", "**/app.go"], 1)[0].startswith("found 0 qualifying")
    assert source_diff_problems(changed, None, [], 4)[0].startswith("found 3 qualifying changed source file(s), need at least 4")


def test_test_declarations_are_counted_per_line_with_wave_defaults():
    go = b"package x\nfunc TestA(t *testing.T) {}\n\tfunc BenchmarkB(b *testing.B) {}\nfunc helper() {}\n"
    assert count_declarations(go, declaration_pattern(None)) == 2
    assert count_declarations(b"def test_a():\n    pass\n", declaration_pattern(r"^\s*def test_")) == 1
    assert is_test_file("pkg/a_test.go", None) and not is_test_file("pkg/a.go", None)
    assert is_test_file("tests/test_app.py", ["**/test_*.py"]) and is_test_file("test_app.py", ["test_*.py"])
    assert net_deletion_problem("test_diff", 3, 3, None, "x") == []
    assert "net deletion 2, at most 1 allowed" in net_deletion_problem("test_diff", 3, 1, 1, "x")[0]


def answer(text: str) -> dict:
    return {"content": [{"type": "text", "text": text}]}


def test_the_judge_score_against_the_threshold():
    results = [{"criterion": "a", "pass": True}, {"criterion": "b", "pass": False, "reasoning": "missing"}]
    verdict = json.dumps({"criteria_results": results})
    assert judged(answer(verdict), 0.5) == ([], "score 50% (threshold 50%)")
    errors, _ = judged(answer("Here you go:\n" + verdict), 0.75)
    assert errors == ["LLM judge score 50% is below threshold 75%: b: missing"]
    assert judged(answer("no json"), 1.0)[0] == ["the judge did not answer with the JSON verdict asked for"]
    assert judged(answer('{"criteria_results": []}'), 1.0)[0] == ["the judge returned no criteria results"]


def test_the_review_verdict():
    assert parse_review(json.dumps({"verdict": "warn", "issues": [], "summary": "ok-ish"}).encode())[0] == []
    errors, note = parse_review(json.dumps({"verdict": "fail", "issues": [{"severity": "major", "description": "d"}],
                                            "summary": "bad"}).encode())
    assert errors == ["agent review verdict: fail — bad; [major] d"] and note.startswith("verdict fail, 1 issue(s)")
    assert parse_review(b"[1]")[0] == ["agent review: the reviewer wrote no verdict (pass, fail or warn) to review.json"]


def test_patterns_that_could_backtrack_without_end_on_the_host_are_refused():
    import pytest

    for pattern in (r"(a+)+b", r"(a|aa)*b", r"(x{2,})+", r"(\w)\1"):
        with pytest.raises(ValueError, match="backtrack without end"):
            declaration_pattern(pattern)
    assert declaration_pattern(r"^(Test|Bench)[A-Z]\w*").search("TestAdd")
