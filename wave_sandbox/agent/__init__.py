"""The agent that runs inside a step container: standard library and anthropic only.

The image copies this package alone (beside an import-free wave_sandbox/__init__.py), so nothing here
may import the rest of wave_sandbox or any third-party package but `anthropic`; a unit test checks it.

    __main__.py / entrypoint.py   `python3 -m wave_sandbox.agent /wave/step.json`, exit codes
    step_file.py                  reading and checking step.json
    loop.py                       the Messages API tool loop and its stop conditions
    deadline.py                   the step's wall clock (SIGALRM)
    model_client.py               the anthropic SDK boundary: client, one turn, error wording
    tools/                        bash, read_file, write_file, edit_file, list_files, grep
    result.py                     the final JSON line on stdout
    progress.py                   progress lines on stderr (agent.log)
"""
