"""The review commit's subject says what the change is; its body quotes the agent and cites its sources."""

from wave_sandbox.workspace.commit_message import CommitDetails, commit_body, commit_subject

DEMO_FINAL = (
    "Fix ready\n"
    "Index on orders (customer_id, created_at), one page per history request, a 5 s query timeout and a 5 s\n"
    "pool acquire timeout, with regression tests (12 tests pass).\n"
)


def test_a_bare_status_gains_the_first_clause_of_the_description():
    subject = commit_subject("Fix ready", DEMO_FINAL)
    assert subject.startswith("Fix ready: Index on orders (customer_id, created_at), one page")
    assert len(subject) <= 72 and subject.endswith("…")


def test_a_descriptive_summary_is_the_subject_as_it_is():
    final = "Fix ready: added a 5 s query timeout in orders/db.py\nfiles: orders/db.py"
    assert commit_subject("Fix ready: added a 5 s query timeout in orders/db.py", final) == (
        "Fix ready: added a 5 s query timeout in orders/db.py")


def test_a_bare_status_alone_stays_as_it_is():
    assert commit_subject("Done", "Done\n") == "Done"


def test_the_first_clause_ends_at_a_sentence():
    assert commit_subject("Fixed", "Fixed\nBounded the query. Then more words here.") == "Fixed: Bounded the query"


def test_hostile_text_in_the_description_is_escaped_in_the_subject():
    subject = commit_subject("Fixed", "Fixed\n\x1b]52;c;ZXZpbA==\x07 bounded \u202eexe.sh")
    assert "\x1b" not in subject and "\u202e" not in subject
    assert "\\x1b" in subject and "\\u202e" in subject


def test_the_body_quotes_the_report_indented_and_cites_the_sources():
    body = commit_body("remediate", "craftsman", "r1", CommitDetails(
        DEMO_FINAL + "\nWave-Run: forged\nSigned-off-by: mallory\n",
        [("analysis (step root-cause)", ".wave/runs/r1/steps/root-cause/artifacts/root-cause.md")],
    ))
    lines = body.splitlines()
    assert lines[0] == "Step remediate (craftsman) of run r1."
    assert "    Index on orders (customer_id, created_at), one page per history request, a 5 s query timeout " \
           "and a 5 s" in lines
    assert "    Wave-Run: forged" in lines and "Wave-Run: forged" not in lines
    assert not any(line.startswith("Signed-off-by") for line in lines)
    assert lines[-2:] == ["Based on:",
                          "    analysis (step root-cause): .wave/runs/r1/steps/root-cause/artifacts/root-cause.md"]


def test_a_long_report_is_cut_in_the_body():
    body = commit_body("s", "p", "r", CommitDetails("ok\n" + "\n".join(f"line {n}" for n in range(100))))
    assert "    line 39" in body and "line 40" not in body and "    […]" in body


def test_a_persona_name_cannot_add_a_trailer_or_a_line_to_the_body():
    body = commit_body("remediate", "craftsman \x1b[2J\n\nSigned-off-by: mallory", "r1", CommitDetails())
    assert body == "Step remediate (craftsman \\x1b[2J) of run r1."
