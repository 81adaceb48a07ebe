"""The contract's command-line shapes: `kejibang exchange import` and `kejibang exchange match`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kejibang.cli import main

GOOD = {"id": "e-t1", "name": "测试专家", "domains": ["pig"], "expertise": "猪瘟防控与仔猪腹泻治疗"}


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    return {"KEJIBANG_EXCHANGE_DB": f"sqlite:///{tmp_path / 'x.db'}", "KEJIBANG_EXCHANGE_URL": ""}


def test_a_file_with_bad_lines_imports_nothing_and_names_each_bad_line(tmp_path: Path):
    path = _write(tmp_path / "experts.jsonl", [
        json.dumps(GOOD, ensure_ascii=False),
        "{broken json",
        json.dumps({**GOOD, "id": "e-t2", "domains": ["unicorns"]}),
        json.dumps({"id": "e-t3", "name": "没有专长"}, ensure_ascii=False),
    ])
    result = CliRunner().invoke(main, ["exchange", "import", "experts", str(path)], env=_env(tmp_path))
    assert result.exit_code != 0
    for line, reason in ((2, "JSON"), (3, "unicorns"), (4, "expertise")):
        assert f"第 {line} 行" in result.output and reason in result.output
    matched = CliRunner().invoke(main, ["exchange", "match"], input='{"text": "猪瘟"}\n', env=_env(tmp_path))
    assert json.loads(matched.output)["experts"] == []


def test_reimporting_the_same_ids_updates_instead_of_duplicating(tmp_path: Path):
    runner, env = CliRunner(), _env(tmp_path)
    path = _write(tmp_path / "experts.jsonl", [json.dumps(GOOD, ensure_ascii=False)])
    assert runner.invoke(main, ["exchange", "import", "experts", str(path)], env=env).exit_code == 0
    _write(path, [json.dumps({**GOOD, "name": "改过名的专家"}, ensure_ascii=False)])
    second = runner.invoke(main, ["exchange", "import", "experts", str(path)], env=env)
    assert second.exit_code == 0 and "新增 0，更新 1" in second.output


def test_match_reads_needs_and_writes_one_result_per_need_in_order(tmp_path: Path):
    runner, env = CliRunner(), _env(tmp_path)
    path = _write(tmp_path / "experts.jsonl", [json.dumps(GOOD, ensure_ascii=False)])
    runner.invoke(main, ["exchange", "import", "experts", str(path)], env=env)
    needs = '{"text": "我家猪拉稀", "region": "四川省广安市岳池县"}\nnot json\n{"text": ""}\n'
    result = runner.invoke(main, ["exchange", "match", "--top", "3", "--json"], input=needs, env=env)
    assert result.exit_code == 0
    first, bad, empty = (json.loads(line) for line in result.output.splitlines())
    assert first["domains"][0] == "pig"
    assert first["experts"][0]["id"] == "e-t1" and isinstance(first["experts"][0]["score"], float)
    assert first["experts"][0]["domains"] == ["pig"]
    assert bad["experts"] == [] and bad["error"]["code"] == "invalid_json"
    assert empty["experts"] == [] and empty["error"]["code"] == "empty_need"
