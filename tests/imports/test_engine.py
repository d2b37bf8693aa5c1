"""Importing real-looking exports on SQLite and PostgreSQL: what the preview says, what is written, and that a
bad file writes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from bot.imports.engine import Options, preview, run_import
from bot.imports.reader import BadFile
from bot.services import kpis
from storage.db import Database
from tests.imports.samples import SYCM, metrics, stored, write_sycm, write_xlsx

NOV = dt.date(2026, 11, 1)


def day(n: int) -> dt.date:
    return NOV + dt.timedelta(days=n - 1)


def log(db: Database, ws: str, metric: str, value: str, on: dt.date, channel: str = "", *,
        percent: bool = False, currency: str | None = None) -> None:
    with db.session() as session:
        kpis.log_value(session, workspace_id=ws, metric_name=metric, value=Decimal(value), percent=percent,
                       channel=channel, day=on, user_id="U1", currency=currency)


def test_sycm_gbk_csv_with_preamble_and_totals(db: Database, workspace: str, tmp_path: Path) -> None:
    path = write_sycm(tmp_path)
    seen = preview(db, workspace_id=workspace, path=path, options=Options(channel="天猫"))
    assert (seen.layout, seen.preset, seen.header_row) == ("wide", "生意参谋 (Tmall)", 3)
    assert seen.rows_read == 4
    assert (seen.first_day, seen.last_day) == (day(1), day(3))
    assert seen.channels == ["天猫"]
    assert [(m.name, m.header, m.unit, m.new, m.values) for m in seen.metrics] == [
        ("visits", "访客数", None, True, 2), ("gmv", "支付金额(元)", "¥", True, 3), ("orders", "支付买家数", None, True, 2),
    ]
    assert (seen.values, seen.new_values, seen.replaced, seen.unchanged) == (7, 7, 0, 0)
    assert [(s.row, s.reason) for s in seen.skipped] == [(7, "totals row")]
    assert any("支付转化率" in note and "ratio" in note for note in seen.notes)
    assert stored(db, workspace) == {}, "a preview writes nothing"

    result = run_import(db, workspace_id=workspace, path=path, options=Options(channel="天猫"))
    assert (result.inserted, result.replaced, result.unchanged) == (7, 0, 0)
    assert result.metrics_created == ["visits", "gmv", "orders"]
    assert stored(db, workspace) == {
        ("visits", "天猫", day(1)): "12500", ("visits", "天猫", day(2)): "13000",
        ("gmv", "天猫", day(1)): "42000", ("gmv", "天猫", day(2)): "45000.5", ("gmv", "天猫", day(3)): "38000",
        ("orders", "天猫", day(1)): "310", ("orders", "天猫", day(2)): "320",
    }
    assert metrics(db, workspace) == {"visits": (None, "sum"), "gmv": ("¥", "sum"), "orders": (None, "sum")}

    again = run_import(db, workspace_id=workspace, path=path, options=Options(channel="天猫"))
    assert (again.inserted, again.replaced, again.unchanged, again.changed) == (0, 0, 7, False)
    assert again.metrics_created == []
    assert "Nothing changed" in again.render()


def test_a_changed_value_is_previewed_and_replaced(db: Database, workspace: str, tmp_path: Path) -> None:
    path = write_sycm(tmp_path)
    run_import(db, workspace_id=workspace, path=path, options=Options(channel="天猫"))
    changed = write_sycm(tmp_path, SYCM.replace("320,2.46%", "333,2.46%"), name="sycm2.csv")
    seen = preview(db, workspace_id=workspace, path=changed, options=Options(channel="天猫"))
    assert (seen.new_values, seen.replaced, seen.unchanged) == (0, 1, 6)
    [r] = seen.replacements
    assert (r.metric, r.channel, r.day, r.old, r.new) == ("orders", "天猫", day(2), Decimal(320), Decimal(333))
    assert "320 → 333" in seen.render()
    result = run_import(db, workspace_id=workspace, path=changed, options=Options(channel="天猫"))
    assert (result.inserted, result.replaced, result.unchanged) == (0, 1, 6)
    assert stored(db, workspace)[("orders", "天猫", day(2))] == "333"


def test_xlsx_with_channels_dates_and_percent_cells(db: Database, workspace: str, tmp_path: Path) -> None:
    log(db, workspace, "visits", "1", day(20), "JD")  # the stored spelling wins over "jd"
    path = write_xlsx(tmp_path, [
        ["京东商智 经营概况"],
        [],
        ["日期", "店铺", "访客数", "成交金额", "成交客户数", "成交转化率", "商品ID", "备注"],
        [dt.datetime(2026, 11, 1), "jd", 5000, 98000.5, 120, 0.024, 1001, "双十一预热"],
        [dt.datetime(2026, 11, 1), "京东自营", 800, 12000, 30, 0.0375, 1002, ""],
        ["20261102", "jd", "6,000", "9.8万", 130, 0.0217, 1003, "x"],
        ["总计", "", 11800, 208000, 280, 0.024, None, None],
    ], percent_columns=(6,))
    seen = preview(db, workspace_id=workspace, path=path)
    assert seen.preset == "京东商智 (JD)"
    assert seen.channels == ["JD", "京东自营"]
    assert [m.name for m in seen.metrics] == ["visits", "gmv", "orders"]
    assert [(s.row, s.reason) for s in seen.skipped] == [(7, "totals row")]
    notes = " ".join(seen.notes)
    assert "成交转化率" in notes and "商品ID" in notes and "备注" in notes
    run_import(db, workspace_id=workspace, path=path)
    values = stored(db, workspace)
    assert values[("visits", "JD", day(1))] == "5000"
    assert values[("gmv", "JD", day(2))] == "98000"
    assert values[("orders", "京东自营", day(1))] == "30"
    assert ("visits", "jd", day(1)) not in values


def test_percent_metrics_store_fractions(db: Database, workspace: str, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("Date,Channel,open rate\n2026-11-01,email,21.5%\n2026-11-02,email,19%\n", encoding="utf-8")
    run_import(db, workspace_id=workspace, path=path)
    assert metrics(db, workspace)["open rate"] == ("%", "avg")
    assert stored(db, workspace)[("open rate", "email", day(1))] == "0.215"
    # a bare number on a % metric is percentage points, as /kpi log reads it
    path.write_text("Date,Channel,open rate\n2026-11-03,email,20\n", encoding="utf-8")
    run_import(db, workspace_id=workspace, path=path)
    assert stored(db, workspace)[("open rate", "email", day(3))] == "0.2"


def test_long_utf8_bom_file_in_chunks(db: Database, workspace: str, tmp_path: Path) -> None:
    lines = ["日期,渠道,指标,数值"]
    for d in range(1, 11):
        for channel in ("抖音", "天猫"):
            lines += [f"2026-11-{d:02d},{channel},消耗,{d * 100}", f"2026-11-{d:02d},{channel},点击数,{d * 7}"]
    lines.append("2026-11-01,抖音,点击率,2.5%")
    path = tmp_path / "long.csv"
    path.write_bytes("\n".join(lines).encode("utf-8-sig"))
    seen = preview(db, workspace_id=workspace, path=path, options=Options(chunk_rows=7))
    assert (seen.layout, seen.rows_read, seen.values) == ("long", 41, 40)
    assert {m.name for m in seen.metrics} == {"spend", "clicks"}
    assert [(s.row, s.reason.split(":")[0]) for s in seen.skipped] == [(42, "a ratio")]
    result = run_import(db, workspace_id=workspace, path=path, options=Options(chunk_rows=7))
    assert result.inserted == 40
    assert stored(db, workspace)[("spend", "天猫", day(10))] == "1000"
    again = run_import(db, workspace_id=workspace, path=path, options=Options(chunk_rows=3))
    assert (again.inserted, again.replaced, again.unchanged) == (0, 0, 40)


def test_ga4_and_google_ads_headers(db: Database, workspace: str, tmp_path: Path) -> None:
    ga4 = tmp_path / "ga4.csv"
    ga4.write_text(
        "# ----------------------------------------\n# Traffic acquisition\n# Start date: 20261101\n"
        "Date,Session source,Sessions,Transactions,Purchase revenue,Engagement rate\n"
        "20261101,google,1200,30,4500.25,0.61\n20261102,Google,1300,31,4600,0.6\n", encoding="utf-8")
    seen = preview(db, workspace_id=workspace, path=ga4)
    assert seen.preset == "GA4"
    assert [m.name for m in seen.metrics] == ["visits", "orders", "revenue"]
    assert seen.channels == ["google"]
    ads = tmp_path / "ads.csv"
    ads.write_text("Campaign report\nDay,Cost,Impressions,Clicks,Conversions,CTR\n"
                   "11/01/2026,$120.50,\"10,000\",250,12,2.50%\nTotal,$120.50,\"10,000\",250,12,2.50%\n",
                   encoding="utf-8")
    seen = preview(db, workspace_id=workspace, path=ads, options=Options(preset="google_ads", channel="Google Ads"))
    assert [(m.name, m.unit) for m in seen.metrics] == [
        ("spend", "$"), ("impressions", None), ("clicks", None), ("conversions", None),
    ]
    assert seen.first_day == day(1)
    assert [s.reason for s in seen.skipped] == ["totals row"]


@pytest.mark.parametrize(("text", "row", "column", "reason"), [
    ("统计日期,访客数\n2026-11-01,12\n2026-11-02,lots\n", 3, "访客数", "'lots' is not a number"),
    ("日期,访客数\n2026-11-01,12\nsoon,13\n", 3, "日期", "'soon' is not a date"),
    ("日期,访客数\n2026-11-01,12\n,13\n", 3, "日期", "no date"),
    ("日期,渠道,指标,数值\n2026-11-01,天猫,,5\n", 2, "指标", "no metric name"),
    ("日期,访客数,支付金额\n2026-11-01,12,-5\n2026-11-02,-3,8\n", 3, "访客数",
     "`visits` is a count and cannot be -3. Nothing was logged."),
])
def test_bad_cells_name_the_row_and_column_and_write_nothing(
    db: Database, workspace: str, tmp_path: Path, text: str, row: int, column: str, reason: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("gb18030"))
    with pytest.raises(BadFile) as caught:
        run_import(db, workspace_id=workspace, path=path)
    assert (caught.value.row, caught.value.column, caught.value.reason) == (row, column, reason)
    assert f"row {row}" in str(caught.value)
    assert stored(db, workspace) == {} and metrics(db, workspace) == {}


def test_a_bad_cell_late_in_a_big_file_writes_nothing(db: Database, workspace: str, tmp_path: Path) -> None:
    lines = ["Date,visits"] + [f"2026-11-{d % 28 + 1:02d},{d}" for d in range(200)] + ["2026-11-01,??"]
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BadFile, match="row 202"):
        run_import(db, workspace_id=workspace, path=path, options=Options(chunk_rows=50))
    assert stored(db, workspace) == {}


@pytest.mark.parametrize(("content", "match"), [
    (b"", "empty"),
    (b"name,value\nfoo,1\n", "no header row with a date column"),
    (b"\xff\xfe\x00\x00garbage\x81\x30" * 10, "no header row|neither UTF-8"),
])
def test_unreadable_files(db: Database, workspace: str, tmp_path: Path, content: bytes, match: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(BadFile, match=match):
        preview(db, workspace_id=workspace, path=path)


def test_other_bad_files(db: Database, workspace: str, tmp_path: Path) -> None:
    with pytest.raises(BadFile, match="no such file"):
        preview(db, workspace_id=workspace, path=tmp_path / "missing.csv")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(BadFile, match=r"\.xls"):
        preview(db, workspace_id=workspace, path=tmp_path / "old.xls")
    (tmp_path / "broken.xlsx").write_bytes(b"PK not really")
    with pytest.raises(BadFile, match=r"not a readable \.xlsx"):
        preview(db, workspace_id=workspace, path=tmp_path / "broken.xlsx")
    (tmp_path / "text.csv").write_text("日期,备注\n2026-11-01,好\n", encoding="utf-8")
    with pytest.raises(BadFile, match="no metric columns"):
        preview(db, workspace_id=workspace, path=tmp_path / "text.csv")
    rows = "".join(f"2026-11-01,{i}\n" for i in range(60))
    (tmp_path / "wide.csv").write_text(f"日期,访客数\n{rows}2026-11-02,1,2,3\n", encoding="utf-8")
    with pytest.raises(BadFile, match=r"more fields than the header.*line 62"):
        preview(db, workspace_id=workspace, path=tmp_path / "wide.csv")


def test_units_and_ratios_follow_the_stored_metrics(db: Database, workspace: str, tmp_path: Path) -> None:
    log(db, workspace, "gmv", "100", day(1), currency="¥")
    path = tmp_path / "usd.csv"
    path.write_text("Date,GMV\n2026-11-02,$5\n", encoding="utf-8")
    with pytest.raises(BadFile, match=r"row 2, column 'GMV'"):
        run_import(db, workspace_id=workspace, path=path)
    with db.session() as session:
        kpis.define_metric(session, workspace_id=workspace, user_id="U1",
                           spec=kpis.MetricSpec("conversion", numerator="orders", denominator="visits"))
    path.write_text("Date,conversion\n2026-11-02,3%\n", encoding="utf-8")
    with pytest.raises(BadFile, match="ratio"):
        run_import(db, workspace_id=workspace, path=path)
    path.write_text("Date,Share\n2026-11-02,3%\n2026-11-03,¥3\n", encoding="utf-8")
    with pytest.raises(BadFile, match=r"row 3.*both as % and as ¥"):
        run_import(db, workspace_id=workspace, path=path)
    assert len(stored(db, workspace)) == 1


def test_repeated_rows_count_once(db: Database, workspace: str, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("Date,visits\n2026-11-01,1\n2026-11-01,2\n", encoding="utf-8")
    seen = preview(db, workspace_id=workspace, path=path)
    assert seen.values == 1 and any("repeated" in n for n in seen.notes)
    run_import(db, workspace_id=workspace, path=path)
    assert stored(db, workspace) == {("visits", "", day(1)): "2"}


def test_a_channels_names_are_one_channel_in_a_file_and_with_channel(db: Database, workspace: str, tmp_path: Path) -> None:
    """京东 and JD (built in) and the team's own alias: one channel under the spelling first logged."""
    from bot.services import channels

    with db.session() as session:
        channels.add_alias(session, workspace_id=workspace, alias="京东商城", channel="JD", user_id="U1")
    log(db, workspace, "visits", "1", day(20), "jd")
    path = tmp_path / "long.csv"
    path.write_text("日期,渠道,指标,数值\n2026-11-01,京东,gmv,100\n2026-11-02,JD,gmv,200\n2026-11-02,京东商城,gmv,250\n"
                    "2026-11-01,天猫,gmv,10\n2026-11-02,Tmall,gmv,20\n", encoding="utf-8")
    seen = preview(db, workspace_id=workspace, path=path)
    assert seen.channels == ["jd", "天猫"]
    run_import(db, workspace_id=workspace, path=path)
    values = stored(db, workspace)
    assert values[("gmv", "jd", day(1))] == "100" and values[("gmv", "jd", day(2))] == "250"  # the later row wins
    assert values[("gmv", "天猫", day(2))] == "20"
    assert {channel for _m, channel, _d in values} == {"jd", "天猫"}
    wide = tmp_path / "wide.csv"
    wide.write_text("日期,访客数\n2026-11-03,30\n", encoding="utf-8")
    run_import(db, workspace_id=workspace, path=wide, options=Options(channel="京东"))
    assert stored(db, workspace)[("visits", "jd", day(3))] == "30"


def test_a_channel_given_never_folds_a_files_several_channels_into_one(db: Database, workspace: str,
                                                                       tmp_path: Path) -> None:
    path = tmp_path / "shops.csv"
    path.write_text("日期,渠道,访客数\n2026-11-01,天猫,300\n2026-11-01,JD,200\n2026-11-02,天猫,310\n", encoding="utf-8")
    with pytest.raises(BadFile, match="several channels"):
        preview(db, workspace_id=workspace, path=path, options=Options(channel="京东商城"))
    with pytest.raises(BadFile, match="several channels"):
        run_import(db, workspace_id=workspace, path=path, options=Options(channel="京东商城"))
    assert stored(db, workspace) == {}
    one = tmp_path / "one.csv"  # a file of one channel (京东 is JD) may be filed under another name
    one.write_text("日期,渠道,访客数\n2026-11-01,京东,300\n2026-11-02,JD,310\n", encoding="utf-8")
    seen = preview(db, workspace_id=workspace, path=one, options=Options(channel="天猫"))
    assert not any("not numbers" in n for n in seen.notes), seen.notes
    run_import(db, workspace_id=workspace, path=one, options=Options(channel="天猫"))
    assert stored(db, workspace) == {("visits", "天猫", day(1)): "300", ("visits", "天猫", day(2)): "310"}
