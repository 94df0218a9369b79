"""Stack traces of every language the evidence pass reads: the committed traces that the fixtures'
services printed (tests/fixtures/evidence/traces), and the documented formats of the others."""

import pytest

from tests.fixtures.evidence.scenarios_polyglot import committed_trace
from wave_sandbox.evidence.traces import continues_trace, parse_any_traceback, starts_trace


def parse(text: str):
    parsed = parse_any_traceback(text.splitlines())
    assert parsed is not None, text
    return parsed


@pytest.mark.parametrize(
    ("name", "language", "exception", "message", "innermost"),
    [
        ("java-checkout", "jvm", "java.lang.ArithmeticException", "/ by zero",
         ("com/shop/checkout/PriceCalculator.java", 13, "PriceCalculator.discounted")),
        ("go-inventory", "go", "panic", "runtime error: index out of range [0] with length 0",
         ("github.com/shop/inventory/internal/stock/reserve.go", 12, "Reserve")),
        ("rust-pricing", "rust", "panic", "attempt to divide by zero", ("./src/pricing.rs", 11, "unit_price")),
        ("node-shipping", "javascript", "TypeError", "Cannot read properties of undefined (reading 'cents')",
         ("/usr/src/app/src/rates.js", 6, "quote")),
        ("ruby-billing", "ruby", "TypeError", "nil can't be coerced into Integer", ("/app/lib/billing/tax.rb", 7, "*")),
        ("php-cart", "php", "DivisionByZeroError", "Division by zero", ("/var/www/html/src/Cart.php", 21, "Cart.averageLine")),
        ("dotnet-payments", "dotnet", "System.DivideByZeroException", "Attempted to divide by zero.",
         ("/src/Payments/RefundService.cs", 21, "RefundService.Split")),
    ],
)  # fmt: skip
def test_the_committed_traces_are_read_with_their_root_cause_and_innermost_frame(name, language, exception, message, innermost):
    parsed = parse(committed_trace(name, "thread " if name == "rust-pricing" else ""))
    assert (parsed.language, parsed.exception_type, parsed.message) == (language, exception, message)
    frame = next(frame for frame in reversed(parsed.final_frames) if not frame.path.startswith(("/rustc", "<")))
    assert (frame.path, frame.line, frame.function) == innermost


def test_java_caused_by_chains_report_the_root_cause_and_keep_the_outer_frames():
    parsed = parse(committed_trace("java-checkout"))
    assert parsed.chained_types == ["java.lang.IllegalStateException"]
    assert [frame.function for frame in parsed.frames] == [
        "Main.main", "CheckoutController.checkout", "CheckoutController.checkout", "PriceCalculator.discounted",
    ]


def test_kotlin_frames_inner_classes_lambdas_and_module_prefixes():
    parsed = parse("\n".join([
        "Exception in thread \"main\" kotlin.KotlinNullPointerException: order had no lines",
        "\tat com.shop.orders.OrderService$place$1.invoke(OrderService.kt:41)",
        "\tat com.shop.orders.OrderService.lambda$place$0(OrderService.kt:38)",
        "\tat app//com.shop.orders.Api.<init>(Api.kt:12)",
        "\tat java.base/java.util.ArrayList.forEach(ArrayList.java:1511)",
        "\tat jdk.internal.reflect.GeneratedMethodAccessor1.invoke(Unknown Source)",
    ]))  # fmt: skip
    assert [(frame.path, frame.line, frame.function) for frame in reversed(parsed.frames)] == [
        ("com/shop/orders/OrderService.kt", 41, "OrderService.invoke"),
        ("com/shop/orders/OrderService.kt", 38, "OrderService.place"),
        ("com/shop/orders/Api.kt", 12, "Api.Api"),
        ("java/util/ArrayList.java", 1511, "ArrayList.forEach"),
        ("<Unknown Source>", 0, "GeneratedMethodAccessor1.invoke"),
    ]


def test_a_go_http_panic_reads_only_the_panicking_goroutine():
    parsed = parse("\n".join([
        "2026/05/11 07:45:01 http: panic serving 10.0.3.7:51234: runtime error: invalid memory address or nil pointer dereference",
        "goroutine 18 [running]:",
        "net/http.(*conn).serve.func1()",
        "\t/usr/local/go/src/net/http/server.go:1850 +0xbf",
        "github.com/shop/api/internal/orders.(*Handler).Place(0xc000124000, {0x7a1e40, 0xc00014a000})",
        "\t/build/internal/orders/handler.go:57 +0x1d",
        "",
        "goroutine 1 [IO wait]:",
        "main.main()",
        "\t/build/main.go:20 +0x25",
    ]))  # fmt: skip
    assert (parsed.exception_type, parsed.message) == ("panic", "runtime error: invalid memory address or nil pointer dereference")
    assert [(frame.path, frame.function) for frame in parsed.frames] == [
        ("/build/internal/orders/handler.go", "Handler.Place"), ("/usr/local/go/src/net/http/server.go", "conn.serve"),
    ]


def test_go_debug_stack_output_has_frames_and_no_exception():
    parsed = parse(committed_trace("go-dns-failure", "ERROR "))
    assert parsed.exception_type == "" and parsed.frames[-1].path == "runtime/debug/stack.go"
    assert parsed.frames[-2].function == "syncOnce"


def test_rust_panics_in_the_old_format_without_a_backtrace():
    parsed = parse("thread 'tokio-runtime-worker' panicked at 'called `Option::unwrap()` on a `None` value', src/cart.rs:88:31")
    assert parsed.message == "called `Option::unwrap()` on a `None` value"
    assert [(frame.path, frame.line) for frame in parsed.frames] == [("src/cart.rs", 88)]


def test_ruby_3_4_quotes_and_rails_style_backtraces():
    modern = parse("/app/lib/cart.rb:12:in 'Cart#total': undefined method '*' for nil (NoMethodError)\n"
                   "\tfrom /app/lib/cart.rb:20:in 'block in Cart#sum'")
    assert [frame.function for frame in modern.frames] == ["Cart.sum", "Cart.total"]
    rails = parse("NoMethodError (undefined method `total' for nil:NilClass):\n  app/models/order.rb:9:in `price'\n"
                  "  app/controllers/orders_controller.rb:4:in `create'")
    assert (rails.exception_type, rails.frames[-1].path, rails.frames[-1].function) == ("NoMethodError", "app/models/order.rb", "price")


def test_dotnet_async_state_machines_lambdas_and_a_one_line_chain():
    parsed = parse("\n".join([
        "System.AggregateException: One or more errors occurred. ---> System.NullReferenceException: Object reference not set",
        "   at Shop.Orders.Cart.<>c.<Total>b__3_0(Line line) in /src/Orders/Cart.cs:line 30",
        "   at System.Linq.Enumerable.Sum[TSource](IEnumerable`1 source, Func`2 selector)",
        "   at Shop.Orders.Checkout.<PlaceAsync>d__4.MoveNext() in /src/Orders/Checkout.cs:line 17",
    ]))  # fmt: skip
    assert (parsed.exception_type, parsed.chained_types) == ("System.NullReferenceException", ["System.AggregateException"])
    assert [frame.function for frame in reversed(parsed.frames)] == ["Cart.Total", "Checkout.PlaceAsync"]


def test_php_user_code_that_throws_and_a_built_in_that_throws():
    parsed = parse("\n".join([
        "PHP Fatal error:  Uncaught App\\Exceptions\\OutOfStock: sku-9 is out of stock in /var/www/src/Stock.php:40",
        "Stack trace:", "#0 /var/www/src/Checkout.php(22): App\\Stock->take('sku-9', 2)", "#1 {main}",
        "  thrown in /var/www/src/Stock.php on line 40",
    ]))  # fmt: skip
    assert parsed.exception_type == "OutOfStock"
    assert [(frame.path, frame.line, frame.function) for frame in reversed(parsed.frames)] == [
        ("/var/www/src/Stock.php", 40, "Stock.take"), ("/var/www/src/Checkout.php", 22, "{main}"),
    ]


def test_node_error_logged_after_a_message_and_async_frames():
    parsed = parse(committed_trace("node-upstream-503"))
    assert parsed.exception_type == "Error" and parsed.message.endswith("answered 503 Service Unavailable")
    assert [frame.function for frame in reversed(parsed.frames)][:2] == ["createLabel", "process.processTicksAndRejections"]
    embedded = parse("request failed: TypeError: x is not a function\n    at handler (/app/dist/api.js:3:9)")
    assert embedded.exception_type == "TypeError"


@pytest.mark.parametrize(
    ("line", "starts", "continues"),
    [
        ("Caused by: java.io.IOException: closed", True, True),
        ("\tat com.shop.A.b(A.java:1)", False, True),
        ("\t... 12 more", False, True),
        ("goroutine 7 [running]:", True, True),
        ("main.main()", False, True),
        ("thread 'main' panicked at src/main.rs:3:5:", True, False),
        ("#0 /app/a.php(3): f()", False, True),
        ("Unhandled exception. System.Exception: boom", True, False),
        ("2026-05-01 INFO all good", False, False),
        ("GET /health 200", False, False),
    ],
)  # fmt: skip
def test_which_lines_begin_or_continue_a_trace(line, starts, continues):
    assert (starts_trace(line.strip()), continues_trace(line)) == (starts, continues)
