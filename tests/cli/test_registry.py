"""``callguard registry`` (callguard.cli.registry)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from click.testing import CliRunner

from callguard.cli import main
from callguard.registry import RegistryFile


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_build_info_and_apply_delta(tmp_path: Path) -> None:
    archive = tmp_path / "ftc.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("415.txt", "4155550123\n4155550124\n")
        z.writestr("212.txt", "212,5550100\r\n")
    directory = str(tmp_path / "reg")
    code, out, _ = run(
        "registry", "build", "--name", "us_ftc", "--format", "ftc", "--as-of", "2026-11-01", "--dir", directory, str(archive)
    )
    assert code == 0 and out.startswith("us_ftc: 3 numbers from 3 lines (0 skipped) -> ")
    registry = RegistryFile(os.path.join(directory, "us_ftc.cgreg"))
    assert "+14155550123" in registry and registry.regions == {"US", "PR", "VI", "GU", "AS", "MP"}

    changes = tmp_path / "changes.txt"
    changes.write_text("415,5550123,D,2026-11-10\n646,5550199,A,2026-11-10\n")
    code, out, _ = run("registry", "apply-delta", "--name", "us_ftc", "--dir", directory, "--as-of", "2020-03-01", str(changes))
    assert code == 0 and out.strip() == "us_ftc: 3 -> 3 numbers (+1 additions, -1 deletions applied)"
    updated = RegistryFile(os.path.join(directory, "us_ftc.cgreg"))
    assert "+14155550123" not in updated and "+16465550199" in updated

    code, out, _ = run("registry", "info", "--dir", directory, "--verify")
    assert code == 0 and "us_ftc\tAS,GU,MP,PR,US,VI\t3 numbers" in out and "as of 2020-03-01" in out and "STALE" in out


def test_malformed_input_fails_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "area_code_415.txt"
    bad.write_text("4155550123\n41555\n")
    directory = tmp_path / "reg"
    code, _, err = run("registry", "build", "--name", "us_ftc", "--format", "ftc", "--dir", str(directory), str(bad))
    assert code == 2 and err == f"callguard: {bad}:2: expected 10 digits or AAA,NNNNNNN (a North American number), got '41555'\n"
    assert not directory.exists() or os.listdir(directory) == []
    code, out, err = run("registry", "build", "--name", "us_ftc", "--format", "ftc", "--dir", str(directory), "--skip-bad-lines", str(bad))
    assert code == 0 and "1 numbers from 2 lines (1 skipped)" in out and f"{bad}:2" in err


def test_other_formats(tmp_path: Path) -> None:
    tps = tmp_path / "tps.txt"
    tps.write_bytes(b"01632960001 \r\n0207 9460000\r\n")
    directory = str(tmp_path / "reg")
    assert run("registry", "build", "--name", "uk_tps", "--format", "tps", "--dir", directory, str(tps))[0] == 0
    registry = RegistryFile(os.path.join(directory, "uk_tps.cgreg"))
    assert "+442079460000" in registry and registry.regions == {"GB", "GG", "JE", "IM"}
    de = tmp_path / "de.txt"
    de.write_text("+4930123456\n+4315551234\n")
    assert run("registry", "build", "--name", "dach", "--format", "e164", "--dir", directory, str(de))[0] == 0
    assert RegistryFile(os.path.join(directory, "dach.cgreg")).regions == {"DE", "AT"}


def test_usage_errors(tmp_path: Path) -> None:
    good = tmp_path / "a.txt"
    good.write_text("4155550123\n")
    assert run("registry", "build", "--name", "US FTC", "--format", "ftc", str(good))[0] == 2
    assert run("registry", "build", "--name", "x", "--format", "ftc", "--as-of", "soon", "--dir", str(tmp_path), str(good))[0] == 2
    assert run("registry", "apply-delta", "--name", "missing", "--dir", str(tmp_path), str(good))[0] == 2
    assert run("registry", "info", "--dir", str(tmp_path / "none"))[0] == 2


def test_install_copies_atomically_and_refuses_corrupt_files(tmp_path: Path) -> None:
    source = tmp_path / "build"
    numbers = tmp_path / "415.txt"
    numbers.write_text("4155550123\n")
    assert run("registry", "build", "--name", "us_ftc", "--format", "ftc", "--dir", str(source), str(numbers))[0] == 0
    target = tmp_path / "host" / "registries"
    code, out, _ = run("registry", "install", "--dir", str(target), str(source / "us_ftc.cgreg"))
    assert code == 0 and out.strip() == f"us_ftc: 1 numbers installed as {target / 'us_ftc.cgreg'}"
    assert "+14155550123" in RegistryFile(str(target / "us_ftc.cgreg"))
    corrupt = tmp_path / "corrupt.cgreg"
    data = bytearray((source / "us_ftc.cgreg").read_bytes())
    data[-1] ^= 1
    corrupt.write_bytes(bytes(data))
    code, _, err = run("registry", "install", "--dir", str(target), str(corrupt))
    assert code == 2 and "checksum" in err
    assert sorted(os.listdir(target)) == ["us_ftc.cgreg"]
