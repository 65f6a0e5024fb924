"""Write notebooks/NN_*.ipynb from the chapter sources notebooks/src/chNN.py (no outputs)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(only: list[str]) -> None:
    for source in sorted(HERE.glob("ch[0-9][0-9].py")):
        module = importlib.import_module(source.stem)
        if only and source.stem not in only:
            continue
        target = HERE.parent / module.FILENAME
        nbformat.write(module.build(), target)
        print(f"wrote {target.relative_to(HERE.parent.parent)}")


if __name__ == "__main__":
    main(sys.argv[1:])
