"""A test-only service that the gateway has never heard of: its contract is compiled here, at test time,
and served by the real chassis gRPC server, so the only thing that connects it to REST is its
`google.api.http` annotations."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
from google.api import httpbody_pb2
from grpc_tools import protoc

from crm_platform.errors import NotFound
from crm_platform.grpc_server import GrpcServer

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_ROOT = Path(__file__).resolve().parent / "echo_contract"
ECHO_PROTO = "crm/echo/v1/echo.proto"


def _gen_protos() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_echo(out: Path) -> tuple[Path, ModuleType, ModuleType]:
    """Compiles the echo contract into `out`: (descriptor set, echo_pb2, echo_pb2_grpc)."""
    gen = _gen_protos()
    out.mkdir(parents=True, exist_ok=True)
    validate_set = out / "validate.binpb"
    gen.write_validate_set(validate_set)
    includes = [
        f"--descriptor_set_in={validate_set}",
        f"-I{CONTRACT_ROOT}",
        f"-I{gen.googleapis_root()}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
    ]
    descriptor_set = out / "echo.binpb"
    for extra in (
        [f"--python_out={out}", f"--grpc_python_out={out}"],
        ["--include_imports", "--include_source_info", f"--descriptor_set_out={descriptor_set}"],
    ):
        if protoc.main(["grpc_tools.protoc", *includes, *extra, ECHO_PROTO]) != 0:
            raise RuntimeError("protoc failed on the echo contract")
    # The generated modules live in a `crm.echo.v1` package beside the platform's `crm` package.
    package_dir = out / "crm" / "echo" / "v1"
    messages = _load("crm.echo.v1.echo_pb2", package_dir / "echo_pb2.py")
    services = _load("crm.echo.v1.echo_pb2_grpc", package_dir / "echo_pb2_grpc.py")
    return descriptor_set, messages, services


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    parts = name.split(".")
    for depth in range(2, len(parts)):  # crm.echo, crm.echo.v1: empty packages so imports resolve
        parent = ".".join(parts[:depth])
        if parent not in sys.modules:
            package = ModuleType(parent)
            package.__path__ = [str(path.parent)]
            sys.modules[parent] = package
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def start_echo(messages: ModuleType, services: ModuleType) -> GrpcServer:
    notes: dict[str, Any] = {}
    lock = threading.Lock()
    seen_metadata: list[dict[str, str]] = []

    class Echo(services.EchoServiceServicer):  # type: ignore[misc,name-defined]
        def CreateNote(self, request: Any, context: grpc.ServicerContext) -> Any:
            seen_metadata.append(dict(context.invocation_metadata()))
            note = messages.Note()
            note.CopyFrom(request.note)
            note.id = uuid.uuid4().hex
            with lock:
                notes[note.id] = note
            return note

        def GetNote(self, request: Any, context: grpc.ServicerContext) -> Any:
            with lock:
                note = notes.get(request.id)
            if note is None:
                raise NotFound(f"note {request.id} not found", resource_type="note", resource_name=request.id)
            return note

        def PinNote(self, request: Any, context: grpc.ServicerContext) -> Any:
            note = self.GetNote(request, context)
            note.pinned = True
            return note

        def PrintNote(self, request: Any, context: grpc.ServicerContext) -> Any:
            note = self.GetNote(request, context)
            card = f"{note.text:^{request.width or 20}}\n#{' #'.join(note.tags)}\n"
            return httpbody_pb2.HttpBody(content_type="text/plain; charset=utf-8", data=card.encode())

        def SearchNotes(self, request: Any, context: grpc.ServicerContext) -> Any:
            with lock:
                found = [
                    n
                    for n in notes.values()
                    if (not request.board or n.board == request.board)
                    and (not request.colour or n.colour == request.colour)
                    and set(request.tags) <= set(n.tags)
                ]
            return messages.SearchNotesResponse(items=found[: request.limit or 10])

    def register(server: grpc.Server) -> list[str]:
        services.add_EchoServiceServicer_to_server(Echo(), server)
        return ["crm.echo.v1.EchoService"]

    server = GrpcServer("echo", "127.0.0.1:0", register).start()
    server.seen_metadata = seen_metadata  # type: ignore[attr-defined]
    return server
