"""Graph pipelines (edges, max_visits) that the composition tests run both on Docker and on the fake."""

HARDENING = """\
kind: WavePipeline
metadata: {name: hardening}
steps:
  - id: fix
    persona: navigator
    max_visits: 2
    exec: {source: "Fix"}
    output_artifacts: [{name: patch, path: output/patch.md}]
  - id: test
    persona: navigator
    dependencies: [fix]
    exec: {source: "Test"}
    output_artifacts: [{name: verdict, path: output/verdict.md}]
    edges:
      - {target: done, condition: "outcome=success"}
      - {target: fix, condition: "outcome=failure"}
  - id: done
    persona: summarizer
    dependencies: [test]
    exec: {source: "Done"}
    output_artifacts: [{name: summary, path: output/summary.md}]
"""

PUBLISHING = """\
kind: WavePipeline
metadata: {name: publishing}
steps:
  - id: draft
    persona: navigator
    exec: {source: "Draft"}
    output_artifacts: [{name: draft, path: output/draft.md}]
  - id: review
    persona: navigator
    dependencies: [draft]
    exec: {source: "Review"}
    output_artifacts: [{name: review, path: output/review.md}]
    edges:
      - {target: route, condition: "outcome=success"}
      - {target: draft}
  - id: route
    type: conditional
    dependencies: [review]
    edges:
      - {target: publish, condition: "outcome=success"}
      - {target: _complete}
  - id: publish
    persona: summarizer
    dependencies: [route]
    max_visits: 1
    exec: {source: "Publish"}
    output_artifacts: [{name: published, path: output/published.md}]
"""
