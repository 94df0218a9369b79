from wave_sandbox.agent.tools.output import OutputCapture, ToolContext, looks_binary, truncate_output


def test_output_within_the_limit_is_left_alone():
    assert truncate_output("short text", 100) == "short text"


def test_long_output_keeps_head_and_tail_around_a_marker():
    text = "H" * 50 + "m" * 1000 + "T" * 50
    assert truncate_output(text, 100) == "H" * 50 + "\n[... output truncated: 1000 bytes omitted ...]\n" + "T" * 50


def test_capture_holds_the_same_head_and_tail_whatever_the_chunking():
    data = bytes(range(256)) * 40
    whole = OutputCapture(300)
    whole.append(data)
    chunked = OutputCapture(300)
    for start in range(0, len(data), 7):
        chunked.append(data[start : start + 7])
    assert (chunked.head, chunked.tail, chunked.total_bytes) == (whole.head, whole.tail, len(data))
    assert len(chunked.head) + len(chunked.tail) == 300


def test_binary_means_a_nul_byte_near_the_start():
    assert looks_binary(b"\x7fELF\x00\x01")
    assert not looks_binary("naïve text\n".encode())


def test_relative_paths_resolve_against_the_workdir():
    context = ToolContext(workdir="/workspace", output_limit=100, bash_timeout_s=1)
    assert context.resolve("output/triage.json") == "/workspace/output/triage.json"
    assert context.resolve("/src/app.py") == "/src/app.py"
    assert context.resolve("../src/./app.py") == "/src/app.py"
