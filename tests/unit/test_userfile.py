"""helpers/world/userfile.py: `--png FILE` replaces a figure of an earlier run, never a file that is no
PNG (a typo or a tab completion such as `--png /etc/passwd`, which root would have replaced)."""
import pytest

from helpers import cli
from helpers.errors import EXIT_USAGE, UsageError
from helpers.world import userfile

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def test_an_existing_file_that_is_not_a_png_is_refused_and_left_as_it_was(tmp_path):
    notes = tmp_path / "passwd"
    notes.write_text("root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(UsageError, match="exists and is not a PNG image") as refused:
        userfile.check_file(str(notes), "--png")
    assert refused.value.fix.startswith("--png ") and str(notes) not in refused.value.fix
    assert notes.read_text() == "root:x:0:0:root:/root:/bin/bash\n"


def test_a_figure_of_an_earlier_run_a_new_name_and_an_empty_file_are_written(tmp_path):
    (tmp_path / "old.png").write_bytes(PNG)
    (tmp_path / "empty.png").touch()
    for name in ("old.png", "new.png", "empty.png"):
        userfile.check_file(str(tmp_path / name), "--png")
    userfile.write_file(str(tmp_path / "old.png"), PNG + b"new", "--png")
    assert (tmp_path / "old.png").read_bytes().endswith(b"new")


def test_the_cli_refuses_it_before_anything_is_traced(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    assert cli.main(["--world", "zq", "map", "--png", str(notes)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "is not a PNG image" in err and "fix: --png" in err
    assert notes.read_text() == "mine\n"
