"""Deployed stack-trace paths mapped to repository files; errors grouped into signatures."""

import pytest

from tests.unit.evidence.helpers import traceback_text
from wave_sandbox.evidence.frames import RepositoryFiles, find_function_extent, library_package
from wave_sandbox.evidence.records import ErrorRecord
from wave_sandbox.evidence.signatures import SignatureBook, template_message
from wave_sandbox.evidence.tracebacks import parse_traceback

FILES = RepositoryFiles([
    "orders/db.py", "orders/handlers.py", "src/pricing/money/rounding.py", "services/billing/handlers.py",
    "services/orders/handlers.py", "app.py", "contextlib.py", "README.md",
])  # fmt: skip


@pytest.mark.parametrize("deployed, expected", [
    ("/usr/local/lib/python3.11/site-packages/orders/db.py", "orders/db.py"),
    ("/usr/lib/python3/dist-packages/orders/db.py", "orders/db.py"),
    ("/app/orders/db.py", "orders/db.py"),
    ("/srv/orders-service/releases/2026-02-04/orders/handlers.py", "orders/handlers.py"),
    ("/opt/venv/lib/python3.12/site-packages/pricing/money/rounding.py", "src/pricing/money/rounding.py"),
    ("/app/billing/handlers.py", "services/billing/handlers.py"),
    ("C:\\deploy\\orders\\db.py", "orders/db.py"),
    ("orders/db.py", "orders/db.py"),
    ("/srv/app.py", "app.py"),
])  # fmt: skip
def test_deployed_paths_map_to_repository_files_by_the_longest_suffix(deployed, expected):
    assert FILES.map_frame_path(deployed) == expected


@pytest.mark.parametrize("deployed", [
    "/usr/lib/python3.11/contextlib.py",                      # the standard library, not the repo's contextlib.py
    "/usr/local/lib/python3.11/site-packages/requests/db.py",  # another package's file of the same name
    "/app/handlers.py",                                        # two repository files are handlers.py
    "<frozen importlib._bootstrap>",
    "/app/orders/models.py",
])  # fmt: skip
def test_paths_that_are_not_the_repositorys_stay_unmapped(deployed):
    assert FILES.map_frame_path(deployed) is None


def test_library_package_names_the_top_level_package():
    assert library_package("/usr/local/lib/python3.11/site-packages/urllib3/connection.py") == "urllib3"
    assert library_package("/usr/lib/python3/dist-packages/six.py") == "six"
    assert library_package("/app/orders/db.py") is None


def test_function_extent_finds_the_function_holding_the_frame_line():
    source = "class Pool:\n    def acquire(self):\n        x = 1\n        return x\n\n\ndef acquire():\n    pass\n"
    extent = find_function_extent(source, "acquire", 3)
    assert (extent.name, extent.first_line, extent.last_line) == ("acquire", 2, 4)
    assert find_function_extent(source, "acquire", 8).first_line == 7
    assert find_function_extent(source, "<module>", 1) is None
    assert find_function_extent("def broken(:\n", "broken", 1) is None


def test_masks_numbers_ids_addresses_and_hex():
    message = "order 8465289 of 3f2a9c1b-0d4e-4c1a-9a55-2b7c1d9e0f11 at 0x7f3a2c from 10.0.1.12:5432 (request d0da6280) took 30.5s"
    assert template_message(message) == "order <n> of <uuid> at <addr> from <ip> (request <hex>) took <n>s"


def record(frames, exception, line_no=1, message="failed", http=None):
    traceback = parse_traceback(traceback_text(frames, exception)) if frames else None
    return ErrorRecord("app.log", line_no, 1770215405.0, f"ERROR app: {message}", message, traceback, None, http)


def test_the_same_failure_through_different_callers_is_one_signature():
    book = SignatureBook(FILES)
    inner = ("/app/orders/db.py", 67, "_acquire", "raise PoolTimeout()")
    book.add(record([("/app/orders/handlers.py", 26, "list_orders", "fetch()"), inner], "orders.db.PoolTimeout: no connection free after 30.0s"))
    book.add(record([("/app/orders/handlers.py", 35, "get_order", "get()"), inner], "orders.db.PoolTimeout: no connection free after 12.5s"))
    book.add(record([("/app/orders/handlers.py", 46, "create_order", "insert()")], "sqlite3.OperationalError: database is locked"))
    keys = sorted(book.signatures)
    assert keys == ["orders.db.PoolTimeout at orders/db.py in _acquire", "sqlite3.OperationalError at orders/handlers.py in create_order"]
    pool = book.signatures[keys[0]]
    assert pool.count == 2 and pool.message == "no connection free after <n>s"
    assert {frame.function for frame in pool.frames} == {"list_orders", "get_order", "_acquire"}


def test_errors_without_a_repository_frame_group_by_templated_message_and_http_by_route():
    book = SignatureBook(FILES)
    book.add(record(None, "", message="payment 4411 declined by provider (ref 9f8e7d6c)"))
    book.add(record(None, "", message="payment 97 declined by provider (ref 1a2b3c4d)"))
    book.add(record(None, "", http=("GET", "/api/orders/8465289?expand=1", 502)))
    assert sorted(book.signatures) == ["HTTP 502 GET /api/orders/<n>?expand=<v>", "payment <n> declined by provider (ref <hex>)"]


def test_connection_refused_and_dns_errors_are_marked_as_infrastructure():
    book = SignatureBook(FILES)
    book.add(record([("/app/orders/db.py", 10, "connect", "sock.connect()")], "ConnectionRefusedError: [Errno 111] Connection refused"))
    book.add(record([("/app/orders/db.py", 20, "resolve", "getaddrinfo()")], "socket.gaierror: [Errno -3] Temporary failure in name resolution"))
    book.add(record([("/app/orders/db.py", 30, "parse", "int(x)")], "ValueError: invalid literal for int()"))
    flags = {signature.exception: signature.infrastructure for signature in book.signatures.values()}
    assert flags == {"ConnectionRefusedError": True, "socket.gaierror": True, "ValueError": False}
