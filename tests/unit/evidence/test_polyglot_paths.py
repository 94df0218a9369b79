"""Deployed paths of every ecosystem mapped to repository files (longest suffix), libraries and
standard libraries kept out, compiled JavaScript placed in its TypeScript source; function extents
outside Python."""

import pytest

from wave_sandbox.evidence.extents import function_extent
from wave_sandbox.evidence.frames import RepositoryFiles, library_package

REPOSITORY = RepositoryFiles([
    "src/main/java/com/shop/checkout/PriceCalculator.java", "internal/stock/reserve.go", "server.go", "conn.go",
    "src/Payments/RefundService.cs", "src/Cart.php", "src/cart.ts", "lib/billing/tax.rb", "src/pricing.rs",
    "Client.php", "builder.rb", "Axios.js",
])  # fmt: skip


@pytest.mark.parametrize(
    ("frame_path", "expected"),
    [
        ("com/shop/checkout/PriceCalculator.java", "src/main/java/com/shop/checkout/PriceCalculator.java"),
        ("github.com/shop/inventory/internal/stock/reserve.go", "internal/stock/reserve.go"),
        ("/src/inventory/internal/stock/reserve.go", "internal/stock/reserve.go"),
        ("/src/Payments/RefundService.cs", "src/Payments/RefundService.cs"),
        ("/var/www/html/src/Cart.php", "src/Cart.php"),
        ("/app/lib/billing/tax.rb", "lib/billing/tax.rb"),
        ("./src/pricing.rs", "src/pricing.rs"),
        ("net/http/server.go", None),  # -trimpath standard library
        ("/usr/local/go/src/net/http/server.go", None),
        ("/usr/lib/go-1.19/src/net/http/server.go", None),
        ("/root/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go", None),
        ("/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/pricing.rs", None),
        ("/var/www/html/vendor/guzzlehttp/guzzle/src/Client.php", None),
        ("/usr/local/bundle/gems/rack-2.2.8/lib/rack/builder.rb", None),
        ("/usr/src/app/node_modules/axios/lib/core/Axios.js", None),
        ("node:internal/process/task_queues", None),
        ("<Unknown Source>", None),
    ],
)  # fmt: skip
def test_deployed_paths_map_to_repository_files(frame_path, expected):
    assert REPOSITORY.map_frame_path(frame_path) == expected


@pytest.mark.parametrize(
    ("frame_path", "package"),
    [
        ("/root/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go", "pq"),  # as go.mod bumps name it
        ("/usr/src/app/node_modules/@aws-sdk/client-s3/dist/index.js", "client-s3"),
        ("/usr/src/app/node_modules/axios/lib/core/Axios.js", "axios"),
        ("/usr/local/bundle/gems/rack-2.2.8/lib/rack/builder.rb", "rack"),
        ("/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.37.0/src/runtime/park.rs", "tokio"),
        ("/var/www/html/vendor/guzzlehttp/guzzle/src/Client.php", "guzzle"),
        ("/usr/local/lib/python3.11/site-packages/requests/models.py", "requests"),
    ],
)  # fmt: skip
def test_third_party_frames_name_their_package(frame_path, package):
    assert library_package(frame_path) == package


def test_compiled_javascript_is_placed_in_its_typescript_source_without_a_line():
    files = RepositoryFiles(["src/cart.ts", "src/server.ts"])
    assert files.map_frame_path("/usr/src/app/dist/cart.js") == "src/cart.ts"
    assert files.compiled == {"/usr/src/app/dist/cart.js": "src/cart.ts"}
    assert files.map_frame_path("/usr/src/app/dist/other.js") is None


JAVA = """package a;

public class Cart {
    public long total(long[] cents) {
        long sum = 0;
        for (long c : cents) {
            sum += c;
        }
        return sum;
    }

    private long tax(long cents) {
        return cents / 5;
    }
}
"""
GO = "package a\n\nfunc (c *Cart) Total(q int) int {\n\tif q == 0 {\n\t\treturn 0\n\t}\n\treturn 10 / q\n}\n"
JS = "function quote(p) {\n  const c = carrier(p);\n  return c.cents;\n}\n\nconst total = (items) => {\n  return items.reduce((s, i) => s + i, 0);\n};\n"
RUBY = "module Tax\n  def self.for(region, cents)\n    rate = RATES[region]\n    (cents * rate).round\n  end\nend\n"
RUST = "pub fn unit_price(items: &[Item]) -> u64 {\n    let count = items.len() as u64;\n    subtotal(items) / count\n}\n"


@pytest.mark.parametrize(
    ("path", "source", "function", "line", "extent"),
    [
        ("Cart.java", JAVA, "Cart.total", 7, (4, 10)),
        ("Cart.java", JAVA, "Cart.tax", 13, (12, 14)),
        ("cart.go", GO, "Cart.Total", 7, (3, 8)),
        ("rates.js", JS, "quote", 3, (1, 4)),
        ("rates.js", JS, "total", 7, (6, 8)),
        ("tax.rb", RUBY, "for", 4, (2, 5)),
        ("pricing.rs", RUST, "unit_price", 3, (1, 4)),
        ("cart.ts", JS, "quote", 0, (1, 4)),  # compiled frame: no line, found by name
    ],
)  # fmt: skip
def test_function_extents_outside_python(path, source, function, line, extent):
    found = function_extent(path, source, function, line)
    assert found is not None and (found.first_line, found.last_line) == extent


def test_no_extent_for_a_name_that_is_only_called_there():
    assert function_extent("Cart.java", JAVA, "Cart.missing", 7) is None
    assert function_extent("tax.rb", RUBY, "*", 4) is None


def test_the_report_notes_a_missing_source_map(tmp_path):
    from tests.unit.evidence.helpers import HOUR, ONSET, History, log_lines, write_file
    from wave_sandbox.evidence import EvidenceRequest, collect_evidence

    history = History()
    history.add("src/cart.ts", "export function total(items: number[]): number {\n  return items.length;\n}\n")
    history.commit(ONSET - 50 * HOUR, "dana", "Cart")
    history.replace("src/cart.ts", "return items.length;", "return items.reduce((s, i) => s + i.price, 0);")
    history.commit(ONSET - 2 * HOUR, "sam", "Sum prices", tag="culprit")
    ids = history.build(tmp_path / "repo")
    trace = ["TypeError: Cannot read properties of undefined (reading 'price')", "    at total (/usr/src/app/dist/cart.js:4:31)"]
    events = [(ONSET + minute * 60, "ERROR", "request failed", trace) for minute in range(20)]
    events += [(ONSET - hour * 600, "INFO", "ok", None) for hour in range(1, 30)]
    logs = write_file(tmp_path / "app.log", log_lines(events), ONSET + 3600)
    evidence = collect_evidence(EvidenceRequest(tmp_path / "repo", [str(logs)], "errors since 14:30 UTC"))
    assert evidence.suspects[0].change.commit == ids["culprit"]
    assert any("source map (cart.js.map) would be needed" in note for note in evidence.notes)
    assert evidence.signatures[0].frame.path == "src/cart.ts" and evidence.signatures[0].frame.line == 0
