"""Property tests (hypothesis): the validators and the stock ledger.

- The validators never raise anything but ``FieldError`` (or ``ValidationError`` for a whole
  record) whatever they are given, and accept exactly the valid decimals.
- The maintained ledger: for any sequence of inserts, back-dated inserts, batch inserts, edits
  and deletes of every flow (produced, received, dispatched, fed, adjusted) across a few
  materials and days, on SQLite and on PostgreSQL, after every step
  ``LedgerService.verify`` finds nothing and closing(d) = closing(d-1) + flows(d) for every day,
  equal to an independent model, all exact ``Decimal``.
- Exactness: many 3-decimal values summed through the ledger, and a million rows summed through
  the ORM column type, give the exact decimal answer on both backends.

The ledger tests take the function-scoped ``store`` fixture (one per backend) and *reset it at
the start of every example* (``_reset``), so sharing it across examples is safe; that is why the
``function_scoped_fixture`` health check is suppressed there and nowhere else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text

from deskops_desktop.models import validation as v
from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.enums import RECORD_MODULES, Granularity, Module
from deskops_desktop.models.errors import ValidationError
from deskops_desktop.models.modules import SPECS, ReferenceIndex, RefItem, validate_record
from deskops_desktop.models.records import (
    Dispatch,
    EquipmentLog,
    Feed,
    InventoryAdjustment,
    ManpowerLog,
    Production,
    Received,
)
from deskops_desktop.models.stock import StockDay
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.store import Store
from tests.helpers import default_site

TODAY = date(2026, 11, 27)
MAX_MILLI = 999_999_999

# ======================================================================== validators
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.from_regex(r"[ +-]?[0-9,]{0,10}(\.[0-9]{0,6})?([eE][+-]?[0-9]{1,3})?[t ]?", fullmatch=True),
    st.from_regex(r"[0-9]{4}-[0-9W]{2,3}-[0-9]{1,2}( 00:00(:00)?)?", fullmatch=True),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=2),
)

PARSERS = (
    v.parse_decimal,
    v.parse_quantity,
    lambda x: v.parse_quantity(x, signed=True),
    v.parse_hours,
    lambda x: v.parse_int(x, low=0, high=100),
    lambda x: v.parse_int(x, low=1, high=None),
    lambda x: v.parse_date(x, today=TODAY),
    lambda x: v.parse_text(x, max_length=10),
    lambda x: v.parse_choice(x, ["MORNING", "NIGHT"], {"Night shift": "NIGHT"}),
)


@given(ANYTHING)
def test_validators_raise_only_field_error(value: object) -> None:
    for parse in PARSERS:
        try:
            parse(value)
        except v.FieldError as exc:
            assert str(exc)  # noqa: PT017 - always a message a clerk can read


REFS = ReferenceIndex(
    materials=(RefItem("m1", "AGG-G1", "G1", True, "AGGREGATES", "TON"),),
    equipment=(RefItem("e1", "CRUSHER-01", "Jaw Crusher #1"),),
    roles=(RefItem("r1", "LABORER", "Laborer"),),
)


@given(st.sampled_from(list(RECORD_MODULES)), st.data())
def test_validate_record_raises_only_validation_error(module: Module, data: st.DataObject) -> None:
    spec = SPECS[module]
    raw = {f.key: data.draw(ANYTHING, label=f.key) for f in spec.fields}
    try:
        clean = validate_record(spec, raw, REFS, TODAY)
    except ValidationError as exc:
        # Every problem names a field of the module (asserting on the caught error is the point).
        assert exc.problems  # noqa: PT017
        assert {p.field for p in exc.problems} <= {f.key for f in spec.fields}  # noqa: PT017
    else:
        assert set(clean) == {f.column for f in spec.fields}


def _decimals(max_places: int, bound: int) -> st.SearchStrategy[Decimal]:
    """Exact decimals with up to ``max_places`` places and |value| below about ``bound``."""
    return st.builds(
        lambda n, places: Decimal(n).scaleb(-places),
        st.integers(-bound * 10**max_places, bound * 10**max_places),
        st.integers(0, max_places),
    )


def _renderings(number: Decimal) -> list[object]:
    text_form = format(number, "f")
    forms: list[object] = [text_form, f" {text_form} ", number, float(text_form)]
    if abs(number) >= 1000:
        forms.append(format(number, ",f"))  # "1,234.5" is a valid way to write it
    return forms


@given(_decimals(5, 2_000_000))
def test_quantity_accepts_exactly_the_valid_decimals(number: Decimal) -> None:
    three_places = number == number.quantize(Decimal("0.001"))
    in_range = abs(number) <= Decimal("999999.999")
    for form in _renderings(number):
        for signed, sign_ok in ((False, number > 0), (True, number != 0)):
            valid = three_places and in_range and sign_ok
            try:
                result = v.parse_quantity(form, signed=signed)
            except v.FieldError:
                assert not valid, f"{form!r} (signed={signed}) refused"
            else:
                assert valid, f"{form!r} (signed={signed}) accepted"
                assert result == number
                assert result.as_tuple().exponent == -3


@given(_decimals(4, 30))
def test_hours_accept_exactly_0_to_24_with_2_places(number: Decimal) -> None:
    valid = Decimal(0) <= number <= Decimal(24) and number == number.quantize(Decimal("0.01"))
    for form in _renderings(number):
        try:
            result = v.parse_hours(form)
        except v.FieldError:
            assert not valid
        else:
            assert valid
            assert result == number


@given(st.integers(-1000, 1000))
def test_counts_accept_exactly_their_range(number: int) -> None:
    for low, high in ((0, 100), (0, 500), (1, None)):
        valid = number >= low and (high is None or number <= high)
        for form in (number, str(number), float(number), Decimal(number)):
            try:
                assert v.parse_int(form, low=low, high=high) == number
            except v.FieldError:
                assert not valid
            else:
                assert valid


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))
def test_dates_accept_exactly_2000_to_today(day: date) -> None:
    valid = date(2000, 1, 1) <= day <= TODAY
    for form in (
        day,
        day.isoformat(),
        datetime(day.year, day.month, day.day),
        f"{day.isoformat()} 00:00:00",
    ):
        try:
            assert v.parse_date(form, today=TODAY) == day
        except v.FieldError:
            assert not valid
        else:
            assert valid


# ======================================================================== the ledger
MATERIALS = ("AGG-G1", "AGG-S1", "RAW-MIXED")
FLOW_MODULES = (
    Module.PRODUCTION,
    Module.RECEIVED,
    Module.DISPATCH,
    Module.FEED,
    Module.ADJUSTMENTS,
)
FIRST_DAY = date(2026, 11, 8)
N_DAYS = 20  # up to 2026-11-27, today at the site
SHIFTS = ("", "MORNING", "NIGHT")
SIGN = {
    Module.PRODUCTION: 1,
    Module.RECEIVED: 1,
    Module.DISPATCH: -1,
    Module.FEED: -1,
    Module.ADJUSTMENTS: 1,
}
RECORD_TABLES = (
    Production,
    Dispatch,
    Received,
    Feed,
    EquipmentLog,
    ManpowerLog,
    InventoryAdjustment,
)
RAW = "RAW-MIXED"  # the one raw feed material of MATERIALS: only it can be fed


def _reset(store: Store) -> None:
    """Empty every record table, the balances and the change log (reference data stays)."""
    with store.write() as session:
        for table in (*RECORD_TABLES, StockDay, ChangeLog):
            session.execute(delete(table))


def _milli(value: int) -> Decimal:
    return Decimal(value).scaleb(-3)


@dataclass
class Model:
    """The records as an independent model: id -> (module, material, day, qty, shift)."""

    records: dict[str, tuple[Module, str, date, Decimal, str]] = field(default_factory=dict)

    def clashes(
        self, module: Module, material: str, day: date, shift: str, exclude: str | None = None
    ) -> bool:
        if module is not Module.PRODUCTION:
            return False
        return any(
            rid != exclude and m is module and mat == material and d == day and s == shift
            for rid, (m, mat, d, _, s) in self.records.items()
        )

    def flows(self) -> dict[tuple[str, date], Decimal]:
        out: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
        for module, material, day, qty, _ in self.records.values():
            out[(material, day)] += SIGN[module] * qty
        return out


def _fit(module: Module, material: str) -> str:
    """The material a record of ``module`` can take (feed is raw feed only)."""
    return RAW if module is Module.FEED else material


def _raw(module: Module, material: str, day: date, qty: Decimal, shift: str) -> dict[str, Any]:
    raw: dict[str, Any] = {"date": day.isoformat(), "material": material, "quantity": str(qty)}
    if module is Module.PRODUCTION:
        raw.update(operation="CRU-PRO", shift=shift)
    if module is Module.FEED:
        raw.update(shift=shift, equipment="CRUSHER-01")
    if module is Module.ADJUSTMENTS:
        raw.update(reason="CORRECTION")
    return raw


quantities = st.integers(1, MAX_MILLI).map(_milli) | st.integers(1, 20_000).map(_milli)
days = st.integers(0, N_DAYS - 1).map(lambda i: FIRST_DAY + timedelta(days=i))
materials = st.sampled_from(MATERIALS)

insert_op = st.tuples(
    st.just("insert"),
    st.sampled_from(FLOW_MODULES),
    materials,
    days,
    quantities,
    st.booleans(),
    st.sampled_from(SHIFTS),
)
edit_op = st.tuples(
    st.just("edit"), st.integers(0, 10**6), materials, days, quantities, st.booleans()
)
delete_op = st.tuples(st.just("delete"), st.integers(0, 10**6))
batch_op = st.tuples(
    st.just("batch"),
    st.sampled_from((Module.RECEIVED, Module.FEED)),
    st.lists(
        st.tuples(materials, days, st.integers(1, 50_000).map(_milli)), min_size=1, max_size=12
    ),
)
operations = st.lists(
    st.one_of(insert_op, insert_op, edit_op, delete_op, batch_op), min_size=2, max_size=12
)


def _check_ledger(services: Services, site_id: str, model: Model) -> None:
    assert services.ledger.verify(SYSTEM, site_id) == []
    last = FIRST_DAY + timedelta(days=N_DAYS - 1)
    ledger = services.ledger.ledger(SYSTEM, site_id, FIRST_DAY, last, material_codes=MATERIALS)
    expected_flows = model.flows()
    by_material: dict[str, list[Any]] = defaultdict(list)
    for row in ledger.rows:
        by_material[row.material.code].append(row)
    assert set(by_material) == set(MATERIALS)
    for code, rows in by_material.items():
        assert [r.day for r in rows] == [FIRST_DAY + timedelta(days=i) for i in range(N_DAYS)]
        previous_closing = Decimal(0)  # nothing happens before FIRST_DAY
        for row in rows:
            assert isinstance(row.closing, Decimal)
            flows = row.produced + row.received - row.dispatched - row.fed + row.adjustment
            assert row.opening == previous_closing
            assert row.closing == previous_closing + flows  # closing(d) = closing(d-1) + flows(d)
            assert flows == expected_flows.get((code, row.day), Decimal(0))
            previous_closing = row.closing
        assert previous_closing == sum(
            (q for (m, _), q in expected_flows.items() if m == code), Decimal(0)
        )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_ledger_always_equals_a_recomputation(store: Store, ops: list[Any]) -> None:
    _reset(store)
    services = build_services(store)
    site = default_site(services)
    model = Model()
    rows: dict[str, Any] = {}  # id -> latest RecordRow (what an edit form would hold)
    for op in ops:
        kind = op[0]
        if kind == "insert":
            _, module, material, day, qty, negative, shift = op
            material = _fit(module, material)
            if module is Module.ADJUSTMENTS and negative:
                qty = -qty
            clash = model.clashes(module, material, day, shift)
            try:
                result = services.records.create(
                    SYSTEM, module, site.id, _raw(module, material, day, qty, shift)
                )
            except ValidationError as exc:
                assert clash, exc  # noqa: PT017 - refused only when the model says it clashes
                assert "already recorded" in str(exc)  # noqa: PT017
            else:
                assert not clash
                model.records[result.value.id] = (module, material, day, qty, shift)
                rows[result.value.id] = result.value
        elif kind == "edit" and model.records:
            _, pick, material, day, qty, negative = op
            record_id = sorted(model.records)[pick % len(model.records)]
            module, _, _, _, shift = model.records[record_id]
            material = _fit(module, material)
            if module is Module.ADJUSTMENTS and negative:
                qty = -qty
            row = rows[record_id]
            raw = {**row.values, "date": day, "material": material, "quantity": qty}
            clash = model.clashes(module, material, day, shift, exclude=record_id)
            try:
                result = services.records.update(
                    SYSTEM, module, record_id, raw, expected_version=row.version
                )
            except ValidationError as exc:
                assert clash, exc  # noqa: PT017
            else:
                assert not clash
                unchanged = (row.ref_code, row.date, row.values["quantity"]) == (material, day, qty)
                # A real edit bumps the version; one that changes nothing may issue no UPDATE at
                # all (the test clock stands still, so not even updated_at changes).
                bump = result.value.version - row.version
                assert bump == 1 or (unchanged and bump == 0)
                model.records[record_id] = (module, material, day, qty, shift)
                rows[record_id] = result.value
        elif kind == "delete" and model.records:
            record_id = sorted(model.records)[op[1] % len(model.records)]
            module = model.records[record_id][0]
            services.records.delete(
                SYSTEM, module, record_id, expected_version=rows[record_id].version
            )
            del model.records[record_id]
            del rows[record_id]
        elif kind == "batch":
            module_for_batch = op[1]
            batch = [
                _raw(module_for_batch, _fit(module_for_batch, m), d, q, "") for m, d, q in op[2]
            ]
            result = services.records.create_many(SYSTEM, module_for_batch, site.id, batch)
            assert result.value == len(batch)
            listed = services.records.list(
                SYSTEM, module_for_batch, site.id, FIRST_DAY, TODAY, limit=None
            )
            for listed_row in listed:
                if listed_row.id not in model.records:
                    model.records[listed_row.id] = (
                        module_for_batch,
                        listed_row.ref_code,
                        listed_row.date,
                        listed_row.values["quantity"],
                        "",
                    )
                    rows[listed_row.id] = listed_row
        _check_ledger(services, site.id, model)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(st.integers(1, MAX_MILLI), st.integers(0, N_DAYS - 1)), min_size=1, max_size=400
    )
)
def test_ledger_sums_three_decimal_values_exactly(
    store: Store, entries: list[tuple[int, int]]
) -> None:
    _reset(store)
    services = build_services(store)
    site = default_site(services)
    batch = [
        {
            "date": (FIRST_DAY + timedelta(days=d)).isoformat(),
            "material": "AGG-G1",
            "quantity": str(_milli(q)),
        }
        for q, d in entries
    ]
    services.records.create_many(SYSTEM, Module.RECEIVED, site.id, batch)
    exact = sum((_milli(q) for q, _ in entries), Decimal(0))
    ledger = services.ledger.ledger(SYSTEM, site.id, FIRST_DAY, TODAY, material_codes=["AGG-G1"])
    assert ledger.rows[-1].closing == exact
    assert sum((r.received for r in ledger.rows), Decimal(0)) == exact
    ton_total = next(t for t in ledger.grand_totals if t.uom == "TON")
    assert ton_total.values()[2] == exact  # received over the range
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_many_tenths_do_not_drift(store: Store) -> None:
    """The classic float trap: 0.1 + 0.2 != 0.3. Ten thousand 0.001s and 0.1s stay exact."""
    services = build_services(store)
    site = default_site(services)
    batch = [
        {
            "date": (FIRST_DAY + timedelta(days=i % N_DAYS)).isoformat(),
            "material": "AGG-G1",
            "quantity": "0.001" if i % 2 else "0.1",
        }
        for i in range(10_000)
    ]
    services.records.create_many(SYSTEM, Module.RECEIVED, site.id, batch)
    ledger = services.ledger.ledger(SYSTEM, site.id, FIRST_DAY, TODAY, material_codes=["AGG-G1"])
    assert ledger.rows[-1].closing == Decimal("505.000")
    assert sum([0.001, 0.1] * 5000) != 505.0  # what a float column would have stored
    assert services.ledger.verify(SYSTEM, site.id) == []


# ======================================================================== a million rows
MILLION = 1_000_000


def _bulk_quantity_sql(dialect: str) -> str:
    # Quantities spread over the whole valid range (0.001 .. 999,999.999), as thousandths.
    q = f"((n * 7919) % {MAX_MILLI}) + 1"
    columns = (
        "id, site_id, date, notes, version, created_at, updated_at, created_by,"
        " material_id, quantity, source, vehicle_ref"
    )
    values = f":site, :day, '', 1, :ts, :ts, NULL, :material, {q}, '', ''"
    if dialect == "sqlite":
        return (
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count)"
            f" INSERT INTO received ({columns})"
            f" SELECT printf('bulk-%07d', n), {values}"
            " FROM seq"
        )
    return (
        f"INSERT INTO received ({columns})"
        f" SELECT 'bulk-' || lpad(n::text, 7, '0'), {values}"
        " FROM generate_series(CAST(1 AS bigint), CAST(:count AS bigint)) AS n"
    )


@pytest.mark.slow
def test_a_million_three_decimal_values_sum_exactly(store: Store) -> None:
    """Issue 2: 3-decimal values summed over a million rows give the exact decimal answer."""
    services = build_services(store)
    site = default_site(services)
    material = next(m for m in services.master.reference().materials if m.code == "AGG-G1")
    sqlite = store.dialect == "sqlite"
    params: dict[str, Any] = {
        "count": MILLION,
        "site": site.id,
        "material": material.id,
        "day": "2026-01-01" if sqlite else date(2026, 1, 1),
        "ts": "2026-01-01 00:00:00.000000" if sqlite else datetime(2026, 1, 1, tzinfo=UTC),
    }
    with store.write() as session:
        session.execute(text(_bulk_quantity_sql(store.dialect)), params)

    values = [((n * 7919) % MAX_MILLI) + 1 for n in range(1, MILLION + 1)]
    exact_milli = sum(values)
    exact = Decimal(exact_milli).scaleb(-3)
    with store.read() as session:
        count, total, smallest, largest = session.execute(
            select(
                func.count(),
                func.sum(Received.quantity),
                func.min(Received.quantity),
                func.max(Received.quantity),
            ).where(Received.site_id == site.id)
        ).one()
        one = session.scalar(select(Received.quantity).where(Received.id == "bulk-0000012"))
    assert count == MILLION
    assert isinstance(total, Decimal)
    assert total == exact
    assert str(total).endswith(str(exact_milli)[-3:])  # exactly three places, last digits right
    assert (smallest, largest) == (_milli(min(values)), _milli(max(values)))
    assert one == _milli(((12 * 7919) % MAX_MILLI) + 1)
    # What float storage would have given: the same values summed as binary floats drift.
    drift = 0.0
    for value in values:
        drift += value / 1000
    assert Decimal(repr(drift)) != exact
    if sqlite:
        # A million wide rows are a few hundred MB: do not leave them in the tmp folder.
        path = Path(str(store.url.database))
        store.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    entries=st.lists(st.tuples(materials, days, st.integers(1, 200_000)), min_size=1, max_size=40),
    offset=st.integers(0, N_DAYS * len(MATERIALS) + 5),
    limit=st.integers(1, 25),
    granularity=st.sampled_from([Granularity.WEEKLY, Granularity.MONTHLY]),
)
def test_pages_and_roll_ups_agree_with_the_daily_ledger(
    store: Store,
    entries: list[tuple[str, date, int]],
    offset: int,
    limit: int,
    granularity: Granularity,
) -> None:
    """A page is a slice of the full daily ledger; a week or month folds its days exactly."""
    _reset(store)
    services = build_services(store)
    site = default_site(services)
    batch = [
        {"date": d.isoformat(), "material": m, "quantity": str(_milli(q))} for m, d, q in entries
    ]
    services.records.create_many(SYSTEM, Module.RECEIVED, site.id, batch)
    last = FIRST_DAY + timedelta(days=N_DAYS - 1)
    full = services.ledger.ledger(SYSTEM, site.id, FIRST_DAY, last)
    page = services.ledger.page(SYSTEM, site.id, FIRST_DAY, last, offset, limit)
    assert page.total == len(full.rows)
    assert page.rows == full.rows[offset : offset + limit]

    rolled = services.ledger.ledger(SYSTEM, site.id, FIRST_DAY, last, granularity)
    daily_by_material: dict[str, list[Any]] = defaultdict(list)
    for row in full.rows:
        daily_by_material[row.material.id].append(row)
    for period in rolled.rows:
        days_in = [
            r
            for r in daily_by_material[period.material.id]
            if period.day <= r.day <= period.period_end
        ]
        assert days_in, period
        assert period.opening == days_in[0].opening
        assert period.closing == days_in[-1].closing
        assert period.received == sum((r.received for r in days_in), Decimal(0))
        assert period.closing == period.opening + period.received  # only receipts here
    for total in (*full.category_totals, *full.grand_totals):
        assert total.uom in ("TON", "LOAD")  # never a mixed-unit total
    load_total = next(t for t in full.grand_totals if t.uom == "LOAD")
    assert load_total.values()[2] == sum(
        (_milli(q) for m, _, q in entries if m == "RAW-MIXED"), Decimal(0)
    )
