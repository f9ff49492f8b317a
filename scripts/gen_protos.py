"""Generate the Python code for every contract under protos/crm into protos/python.

The generated code is committed so that every service installs and builds its image without a
protobuf toolchain; `make test` fails when it is stale.

Besides the `_pb2` modules this writes `crm/contracts.binpb`: a FileDescriptorSet of every contract with
its imports and its source comments. The gateway reads it at start to build its REST routes and the
OpenAPI document (descriptions come from the proto comments, which `_pb2` modules do not keep), and
`buf lint` / `buf breaking` read it too.

Imports come from the packages the code runs with, so nothing is downloaded:
- `google/api/*.proto`, `google/rpc/*.proto` from googleapis-common-protos (it ships the sources);
- `buf/validate/validate.proto` from protovalidate, whose wheel ships no `.proto` source: its
  serialized descriptor is taken from the generated module and given to protoc as a descriptor set.
  Its `_pb2` module is generated here too (protovalidate ships only its own runtime's flavour), so the
  contracts' `_pb2` modules can import it.

Usage: python scripts/gen_protos.py [--out DIR | --check]
"""

from __future__ import annotations

import argparse
import ast
import filecmp
import sys
import tempfile
from pathlib import Path

import google.api.annotations_pb2
import protovalidate
from google.protobuf import descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
DEFAULT_OUT = PROTO_ROOT / "python"
DESCRIPTOR_SET = Path("crm") / "contracts.binpb"
VALIDATE_PROTO = "buf/validate/validate.proto"


def proto_files(proto_root: Path = PROTO_ROOT) -> list[Path]:
    return sorted((proto_root / "crm").rglob("*.proto"))


def googleapis_root() -> Path:
    # site-packages/google/api/annotations_pb2.py -> site-packages (holds google/api/*.proto)
    return Path(google.api.annotations_pb2.__file__).resolve().parent.parent.parent


def validate_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """buf/validate/validate.proto as protovalidate's generated module embeds it."""
    module = Path(protovalidate.__file__).parent / "_gen" / "buf" / "validate" / "validate_pb.py"
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "file_desc":
            literal = node.args[0]
            if isinstance(literal, ast.Constant) and isinstance(literal.value, bytes):
                return descriptor_pb2.FileDescriptorProto.FromString(literal.value)
    raise SystemExit(f"no serialized descriptor found in {module}")


def write_validate_set(path: Path) -> None:
    """A descriptor set of validate.proto and the well-known files it imports (protoc wants them all)."""
    files = descriptor_pb2.FileDescriptorSet()
    for module in (descriptor_pb2, duration_pb2, field_mask_pb2, timestamp_pb2):
        files.file.add().MergeFromString(module.DESCRIPTOR.serialized_pb)
    files.file.append(validate_descriptor())
    path.write_bytes(files.SerializeToString(deterministic=True))


def run_protoc(args: list[str]) -> None:
    if protoc.main(["grpc_tools.protoc", *args]) != 0:
        raise SystemExit("protoc failed")


def protoc_includes(validate_set: Path, proto_root: Path = PROTO_ROOT) -> list[str]:
    """protoc's import paths: the contracts, googleapis, validate.proto's descriptor set, well-known types."""
    well_known = Path(protoc.__file__).parent / "_proto"
    return [
        f"--descriptor_set_in={validate_set}",
        f"-I{proto_root}",
        f"-I{googleapis_root()}",
        f"-I{well_known}",
    ]


def write_descriptor_set(path: Path, proto_root: Path = PROTO_ROOT) -> None:
    """Writes what `crm/contracts.binpb` holds (every contract under `proto_root/crm`, with its imports and
    source info) to `path`; `proto_root` may be another checkout's `protos/`, e.g. an older version."""
    files = [str(p.relative_to(proto_root)) for p in proto_files(proto_root)]
    with tempfile.TemporaryDirectory() as tmp:
        validate_set = Path(tmp) / "validate.binpb"
        write_validate_set(validate_set)
        run_protoc(
            [
                *protoc_includes(validate_set, proto_root),
                "--include_imports",
                "--include_source_info",
                f"--descriptor_set_out={path}",
                *files,
            ]
        )


def generate(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    with tempfile.TemporaryDirectory() as tmp:
        validate_set = Path(tmp) / "validate.binpb"
        write_validate_set(validate_set)
        includes = protoc_includes(validate_set)
        run_protoc(
            [
                *includes,
                f"--python_out={out_dir}",
                f"--pyi_out={out_dir}",
                f"--grpc_python_out={out_dir}",
                *files,
            ]
        )
        run_protoc([*includes, f"--python_out={out_dir}", f"--pyi_out={out_dir}", VALIDATE_PROTO])
        run_protoc(
            [
                *includes,
                "--include_imports",
                "--include_source_info",
                f"--descriptor_set_out={out_dir / DESCRIPTOR_SET}",
                *files,
            ]
        )
    # Regular packages (not namespace packages) so that tools and editable installs agree on imports.
    for package in ("crm", "buf"):
        for directory in [out_dir / package, *(out_dir / package).rglob("*")]:
            if directory.is_dir() and directory.name != "__pycache__":
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
