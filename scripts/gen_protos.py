"""Generate the Python code for every contract under protos/crm into protos/python.

The generated code is committed so that every service installs and builds its image without a
protobuf toolchain; `tests/contract/test_generated_code.py` fails when it is stale.
Usage: python scripts/gen_protos.py [--out DIR | --check]
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
DEFAULT_OUT = PROTO_ROOT / "python"


def proto_files() -> list[Path]:
    return sorted((PROTO_ROOT / "crm").rglob("*.proto"))


def generate(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = Path(protoc.__file__).parent / "_proto"
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Regular packages (not namespace packages) so that tools and editable installs agree on imports.
    for directory in [out_dir / "crm", *(out_dir / "crm").rglob("*")]:
        if directory.is_dir():
            (directory / "__init__.py").touch()


def stale_files(committed: Path = DEFAULT_OUT) -> list[str]:
    """Files whose committed generated code differs from what the .proto files generate now."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        names = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
        names |= {
            p.relative_to(committed)
            for p in committed.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        return sorted(
            str(name)
            for name in names
            if not (fresh / name).exists()
            or not (committed / name).exists()
            or not filecmp.cmp(fresh / name, committed / name, shallow=False)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.out)
        if stale:
            print(
                "generated code is stale; run `make protos` and commit:", *stale, sep="\n  ", file=sys.stderr
            )
            return 1
        return 0
    generate(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
