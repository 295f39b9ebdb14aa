"""Retry with backoff, rate limit, circuit breaker, timeout with fallback: the runtime decorators."""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import Coroutine
from typing import Any

import kailash_rt as rt
import pytest
from kailash_rt._resilience import TokenBucket, backoff_delay


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


# -- retry ---------------------------------------------------------------------------------
def flaky(failures: list[BaseException]) -> tuple[list[int], Any]:
    calls: list[int] = []

    async def operation() -> dict[str, Any]:
        calls.append(len(calls) + 1)
        if failures:
            raise failures.pop(0)
        return {"data": "ok"}

    return calls, operation


def test_retry_succeeds_after_failures_and_reports_the_attempts() -> None:
    calls, operation = flaky([ConnectionError("down"), TimeoutError("slow")])
    node = rt.retry_with_backoff(max_retries=3, initial_backoff=0.01, retry_on=(ConnectionError, TimeoutError))(
        operation
    )
    out = run(node())
    assert calls == [1, 2, 3]
    assert out["data"] == "ok"
    assert out["total_attempts"] == 3
    assert [a["success"] for a in out["attempts"]] == [False, False, True]
    assert [a.get("error_type") for a in out["attempts"]] == ["ConnectionError", "TimeoutError", None]


def test_retry_gives_up_after_max_retries_plus_one_attempts() -> None:
    calls, operation = flaky([ConnectionError(str(i)) for i in range(10)])
    node = rt.retry_with_backoff(max_retries=2, initial_backoff=0.001)(operation)
    with pytest.raises(rt.RetriesExhausted, match="failed after 3 attempts: ConnectionError: 2") as info:
        run(node())
    assert calls == [1, 2, 3]
    assert isinstance(info.value.__cause__, ConnectionError)


def test_exceptions_outside_retry_on_fail_at_once() -> None:
    calls, operation = flaky([ValueError("bad input")])
    node = rt.retry_with_backoff(max_retries=5, initial_backoff=0.001, retry_on=(ConnectionError,))(operation)
    with pytest.raises(ValueError, match="bad input"):
        run(node())
    assert calls == [1]


def test_subclasses_of_retry_on_are_retried() -> None:
    calls, operation = flaky([ConnectionRefusedError("refused")])
    node = rt.retry_with_backoff(max_retries=1, initial_backoff=0.001, retry_on=(ConnectionError,))(operation)
    assert run(node())["total_attempts"] == 2
    assert calls == [1, 2]


def test_backoff_grows_is_jittered_and_capped() -> None:
    for retry, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = [backoff_delay(retry, 0.5, 2.0, 3.0) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100  # jittered, not constant


def test_backoff_never_overflows_however_many_retries() -> None:
    assert backoff_delay(2000, 0, 2.0, 0) == 0
    assert backoff_delay(5000, 0, 2.0, 60.0) == 0  # 0 * 2**4999: no power is taken
    for retry in (1025, 5000, 10**6):
        assert 30.0 <= backoff_delay(retry, 0.001, 2.0, 60.0) <= 60.0
    ceiling = math.ldexp(1e-300, 1100)  # 2**1100 is past the float range, the delay is not
    assert ceiling / 2 <= backoff_delay(1101, 1e-300, 2.0, 1e300) <= ceiling
    assert backoff_delay(3000, 1.0, 1.0, 10.0) == pytest.approx(1.0, rel=0.5)  # factor 1: constant


def test_thousands_of_retries_without_backoff() -> None:
    calls, operation = flaky([ConnectionError("busy")] * 1500)
    node = rt.retry_with_backoff(max_retries=2000, initial_backoff=0, max_backoff=0)(operation)
    out = run(node())
    assert out["total_attempts"] == 1501
    assert len(calls) == 1501


def test_retry_settings_must_be_finite() -> None:
    for setting in ("initial_backoff", "backoff_factor", "max_backoff"):
        for value in (float("inf"), float("nan")):
            with pytest.raises(ValueError, match=setting):
                rt.retry_with_backoff(**{setting: value})


def test_retry_waits_between_attempts() -> None:
    _, operation = flaky([ConnectionError(), ConnectionError()])
    node = rt.retry_with_backoff(max_retries=2, initial_backoff=0.1, backoff_factor=2.0)(operation)
    started = time.monotonic()
    run(node())
    assert time.monotonic() - started >= 0.05 + 0.1  # at least half of 0.1 + 0.2


def test_retry_output_that_is_not_a_dict() -> None:
    async def seven() -> int:
        return 7

    async def nothing() -> None:
        return None

    assert run(rt.retry_with_backoff()(seven)())["value"] == 7
    assert run(rt.retry_with_backoff()(nothing)())["total_attempts"] == 1


# -- rate limit --------------------------------------------------------------------------
def test_burst_passes_at_once_then_the_rate_holds() -> None:
    bucket = TokenBucket(rate=10, burst=5)
    waits = [bucket.reserve() for _ in range(8)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([0.1, 0.2, 0.3], abs=0.02)


def test_measured_rate_is_within_ten_percent_and_the_burst_is_honoured() -> None:
    stamps: list[float] = []

    @rt.rate_limited(requests_per_second=20, burst_size=5)
    async def call() -> dict[str, Any]:
        stamps.append(time.monotonic())
        return {"ok": True}

    async def main() -> list[dict[str, Any]]:
        start = time.monotonic()
        outputs = await asyncio.gather(*(call() for _ in range(65)))
        stamps.insert(0, start)
        return list(outputs)

    outputs = run(main())
    start, calls = stamps[0], stamps[1:]
    # Never faster than the rate: call k (after the burst of 5) starts no earlier than its slot.
    # A loaded machine may start calls late, which is not the limiter's doing; only a hang is bounded.
    for index, stamp in enumerate(calls):
        assert stamp - start >= max(0, index - 4) / 20 - 0.005, f"call {index} came early"
    assert [o["_rate_limit_info"]["waited"] for o in outputs[:5]] == [0] * 5  # the burst, at once
    assert all(o["_rate_limit_info"]["waited"] > 0 for o in outputs[5:])
    assert calls[-1] - start < 60 / 20 * 5
    info = outputs[-1]["_rate_limit_info"]
    assert info["requests_per_second"] == 20 and info["burst_size"] == 5
    assert info["waited"] > 2.5


def test_the_bucket_is_shared_by_concurrent_runs_in_other_threads() -> None:
    stamps: list[float] = []

    @rt.rate_limited(requests_per_second=40, burst_size=1)
    async def call() -> None:
        stamps.append(time.monotonic())

    async def runs() -> None:
        for _ in range(20):
            await call()

    threads = [threading.Thread(target=lambda: asyncio.run(runs())) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stamps) == 40
    elapsed = time.monotonic() - started
    assert elapsed >= 39 / 40 - 0.005  # one bucket for both threads: never faster than 40 a second
    assert elapsed < 39 / 40 * 10  # only a hang is bounded: a loaded machine may be slow


def test_rate_limit_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="requests_per_second"):
        rt.rate_limited(requests_per_second=0)
    with pytest.raises(ValueError, match="burst_size"):
        rt.rate_limited(requests_per_second=1, burst_size=0)
    for value in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="requests_per_second must be a positive finite number"):
            rt.rate_limited(requests_per_second=value)
        with pytest.raises(ValueError, match="reset_timeout"):
            rt.circuit_breaker(reset_timeout=value)
        with pytest.raises(ValueError, match="timeout_seconds"):
            rt.timeout_with_fallback(timeout_seconds=value)
        with pytest.raises(ValueError, match="flush_interval"):
            rt.batch_processor(flush_interval=value)
        with pytest.raises(ValueError, match="timeout_per_operation"):
            rt.parallel_fetch({}, timeout_per_operation=value)
    assert rt.rate_limited(requests_per_second=1e308)  # a default burst that does not overflow


# -- circuit breaker ------------------------------------------------------------------------
def let_the_reset_timeout_pass(breaker: Any) -> None:
    """As if ``reset_timeout`` seconds had passed since the breaker opened (no waiting, no race)."""
    breaker.opened_at -= breaker.reset_timeout


def test_every_breaker_transition() -> None:
    executed: list[str] = []
    behaviour = {"fail": True}

    @rt.circuit_breaker(failure_threshold=3, reset_timeout=60.0)
    async def service() -> dict[str, Any]:
        executed.append("run")
        if behaviour["fail"]:
            raise ConnectionError("service down")
        return {"data": 1}

    breaker = service.breaker  # type: ignore[attr-defined]

    async def main() -> None:
        # closed: failures pass through until the threshold
        for count in (1, 2):
            with pytest.raises(ConnectionError):
                await service()
            assert (breaker.state, breaker.failure_count) == ("closed", count)
        with pytest.raises(ConnectionError):
            await service()
        assert breaker.state == "open"
        assert len(executed) == 3

        # open: fails fast, the code does not run
        with pytest.raises(rt.CircuitOpenError, match='state "open" after 3 failures'):
            await service()
        assert len(executed) == 3

        # half open after the reset timeout: a failing probe opens it again
        let_the_reset_timeout_pass(breaker)
        with pytest.raises(rt.CircuitOpenError, match='state "half_open" and its probe call failed') as info:
            await service()
        assert isinstance(info.value.__cause__, ConnectionError)
        assert breaker.state == "open" and len(executed) == 4
        with pytest.raises(rt.CircuitOpenError):
            await service()
        assert len(executed) == 4

        # a succeeding probe closes it
        let_the_reset_timeout_pass(breaker)
        behaviour["fail"] = False
        out = await service()
        assert out["_circuit_breaker_info"]["state"] == "closed"
        assert out["_circuit_breaker_info"]["failure_count"] == 0
        assert breaker.state == "closed" and len(executed) == 5

    run(main())


def test_half_open_lets_only_one_probe_through() -> None:
    executed: list[int] = []

    @rt.circuit_breaker(failure_threshold=1, reset_timeout=0.05)
    async def service() -> dict[str, Any]:
        executed.append(1)
        if len(executed) == 1:
            raise ConnectionError("first call fails")
        await asyncio.sleep(0.05)
        return {}

    async def main() -> list[Any]:
        with pytest.raises(ConnectionError):
            await service()
        await asyncio.sleep(0.1)
        return await asyncio.gather(service(), service(), service(), return_exceptions=True)

    outcomes = run(main())
    assert sum(isinstance(o, dict) for o in outcomes) == 1
    assert sum(isinstance(o, rt.CircuitOpenError) for o in outcomes) == 2
    assert len(executed) == 2


def test_while_the_breaker_is_not_closed_the_nodes_error_names_its_state_and_when_it_probes() -> None:
    probe_started, release_probe = asyncio.Event(), asyncio.Event()
    calls: list[bool] = []

    @rt.circuit_breaker(failure_threshold=2, reset_timeout=60.0)
    async def service(fail: bool) -> dict[str, Any]:
        calls.append(fail)
        if len(calls) == 4:  # the second probe: held until the test has called beside it
            probe_started.set()
            await release_probe.wait()
        if fail:
            raise ConnectionError("refused")
        return {}

    breaker = service.breaker  # type: ignore[attr-defined]

    async def once(fail: bool) -> rt.RunResult:
        async with rt.Run("breaker") as r:
            r.node("protected", service, fail=fail)
        return r.result

    async def main() -> tuple[list[rt.RunResult], BaseException]:
        outcomes = [await once(True), await once(True), await once(True)]  # closed, closed, open
        let_the_reset_timeout_pass(breaker)
        outcomes.append(await once(True))  # the probe fails
        let_the_reset_timeout_pass(breaker)
        probing = asyncio.ensure_future(once(False))
        await probe_started.wait()
        try:
            await service(fail=False)
        except rt.CircuitOpenError as exc:
            beside = exc
        release_probe.set()
        outcomes.append(await probing)
        return outcomes, beside

    (first, second, fast, probe, closing), beside = run(main())
    assert first["errors"] == second["errors"] == {"protected": "ConnectionError: refused"}
    assert fast["errors"]["protected"].startswith(
        'CircuitOpenError: circuit breaker state "open" after 2 failures in a row, so the call did not run;'
        " it lets a probe call through in "
    )
    error = fast.exceptions["protected"]
    assert isinstance(error, rt.CircuitOpenError)
    assert error.state == "open"
    assert error.retry_in is not None and 0 < error.retry_in <= 60
    assert probe["errors"]["protected"] == (
        'CircuitOpenError: circuit breaker state "half_open" and its probe call failed (ConnectionError: refused),'
        ' so it is "open" again; it lets a probe call through in 60.0s'
    )
    assert probe.exceptions["protected"].state == "half_open"  # type: ignore[attr-defined]
    assert isinstance(probe.exceptions["protected"].__cause__, ConnectionError)
    assert str(beside) == (
        'circuit breaker state "half_open" while its probe call runs, so the call did not run;'
        " it closes if the probe succeeds, or reopens for 60.0s if the probe fails"
    )
    assert (beside.state, beside.retry_in) == ("half_open", None)  # type: ignore[attr-defined]
    assert closing["errors"] == {}
    assert closing["results"]["protected"]["_circuit_breaker_info"]["state"] == "closed"
    assert calls == [True, True, True, False]  # the open breaker ran nothing, nor the call beside the probe


def test_a_success_resets_the_failure_count() -> None:
    results = iter([ConnectionError(), ConnectionError(), None, ConnectionError(), ConnectionError()])

    @rt.circuit_breaker(failure_threshold=3, reset_timeout=60)
    async def service() -> dict[str, Any]:
        outcome = next(results)
        if outcome:
            raise outcome
        return {}

    async def main() -> None:
        for _ in range(5):
            with contextlib.suppress(ConnectionError):
                await service()

    run(main())
    assert service.breaker.state == "closed"  # type: ignore[attr-defined]
    assert service.breaker.failure_count == 2  # type: ignore[attr-defined]


# -- timeout with fallback ----------------------------------------------------------------
def make_pair(primary_delay: float, primary_error: Exception | None = None) -> tuple[Any, Any, list[str]]:
    ran: list[str] = []

    @rt.timeout_with_fallback(timeout_seconds=0.1)
    async def primary_service(primary_client: str) -> dict[str, Any]:
        ran.append("primary")
        await asyncio.sleep(primary_delay)
        if primary_error:
            raise primary_error
        return {"data": primary_client}

    @primary_service.fallback
    async def fallback_service(fallback_client: str) -> dict[str, Any]:
        ran.append("fallback")
        return {"data": fallback_client}

    return primary_service, fallback_service, ran


def run_pair(primary: Any, fallback: Any) -> rt.RunResult:
    async def consumer(value: dict[str, Any]) -> Any:
        return value["data"]

    async def main() -> rt.RunResult:
        async with rt.Run("fallback") as r:
            answer = r.node("primary_service", primary, primary_client="P", fallback_client="F")
            mirrored = r.node("fallback_service", fallback, answer=answer)
            r.node("after_primary", consumer, value=answer)
            r.node("after_fallback", consumer, value=mirrored)
        return r.result

    return run(main())


def test_fast_primary_answers_and_the_fallback_does_not_run() -> None:
    primary, fallback, ran = make_pair(0.0)
    result = run_pair(primary, fallback)
    assert ran == ["primary"]
    assert result["results"]["primary_service"] == {"data": "P", "_source": "primary"}
    assert result["results"]["fallback_service"] == result["results"]["primary_service"]
    assert result["results"]["after_primary"] == result["results"]["after_fallback"] == "P"


def test_slow_primary_times_out_and_the_fallback_answers_for_both_ids() -> None:
    primary, fallback, ran = make_pair(5.0)
    started = time.monotonic()
    result = run_pair(primary, fallback)
    assert time.monotonic() - started < 2
    assert ran == ["primary", "fallback"]
    answer = result["results"]["primary_service"]
    assert answer["_source"] == "fallback" and answer["data"] == "F"
    assert answer["_primary_error"] == "TimeoutError: timed out after 0.1s"
    assert result["results"]["after_primary"] == result["results"]["after_fallback"] == "F"


def test_failing_primary_uses_the_fallback() -> None:
    primary, fallback, ran = make_pair(0.0, ConnectionError("refused"))
    result = run_pair(primary, fallback)
    assert ran == ["primary", "fallback"]
    assert result["results"]["fallback_service"]["_primary_error"] == "ConnectionError: refused"


def both_failing(primary_delay: float) -> tuple[Any, Any, list[str]]:
    ran: list[str] = []

    @rt.timeout_with_fallback(timeout_seconds=0.1)
    async def primary_service() -> int:
        ran.append("primary")
        await asyncio.sleep(primary_delay)
        raise ConnectionError("primary down")

    @primary_service.fallback
    async def fallback_service() -> int:
        ran.append("fallback")
        raise LookupError("no cached copy")

    return primary_service, fallback_service, ran


@pytest.mark.parametrize(
    ("primary_delay", "primary_error"),
    [(0.0, "ConnectionError: primary down"), (5.0, "TimeoutError: timed out after 0.1s")],
)
def test_when_primary_and_fallback_both_fail_each_node_reports_its_own_error(
    primary_delay: float, primary_error: str
) -> None:
    primary, fallback, ran = both_failing(primary_delay)
    result = run_pair(primary, fallback)
    assert ran == ["primary", "fallback"]
    assert result["results"] == {}
    assert result["errors"] == {
        "primary_service": primary_error,
        "fallback_service": "LookupError: no cached copy",  # it ran: its own error, not "skipped"
        "after_primary": "UpstreamFailed: skipped because upstream node 'primary_service' failed",
        "after_fallback": "UpstreamFailed: skipped because upstream node 'fallback_service' failed",
    }
    assert isinstance(result.exceptions["fallback_service"], LookupError)


def test_called_outside_a_run_a_failing_pair_raises_with_both_errors() -> None:
    primary, _, _ = both_failing(0.0)
    with pytest.raises(rt.FallbackFailed) as info:
        run(primary())
    assert str(info.value) == "ConnectionError: primary down; its fallback failed too: LookupError: no cached copy"
    assert isinstance(info.value.primary_error, ConnectionError)
    assert isinstance(info.value.fallback_error, LookupError)
