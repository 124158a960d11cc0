"""Message classes built at run time from .proto files, without protoc or generated code.

A small parser for the proto3 subset the contract uses (messages, nested types, enums,
oneofs, maps, repeated/optional fields, services, imports, options, reserved ranges) turns
each file into a google.protobuf FileDescriptorProto; the files go into a private
DescriptorPool and message classes come from a MessageFactory. Imports of
google/protobuf/*.proto are served by the descriptors bundled with the protobuf package.

    protos = ProtoSet([PROTO_DIR], ["grpc/health/v1/health.proto"])
    Request = protos.message("grpc.health.v1.HealthCheckRequest")
    method = protos.method("/grpc.health.v1.Health/Check")   # Method(request, response, ...)

Options and custom options are parsed and ignored; extensions and groups are not supported.
"""

import importlib
import os
import re
from collections import namedtuple

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

FDP = descriptor_pb2.FieldDescriptorProto

SCALARS = {
    "double": FDP.TYPE_DOUBLE, "float": FDP.TYPE_FLOAT,
    "int64": FDP.TYPE_INT64, "uint64": FDP.TYPE_UINT64, "int32": FDP.TYPE_INT32,
    "fixed64": FDP.TYPE_FIXED64, "fixed32": FDP.TYPE_FIXED32, "bool": FDP.TYPE_BOOL,
    "string": FDP.TYPE_STRING, "bytes": FDP.TYPE_BYTES, "uint32": FDP.TYPE_UINT32,
    "sfixed32": FDP.TYPE_SFIXED32, "sfixed64": FDP.TYPE_SFIXED64,
    "sint32": FDP.TYPE_SINT32, "sint64": FDP.TYPE_SINT64,
}

Method = namedtuple("Method", "path request response client_streaming server_streaming")


class ProtoError(Exception):
    pass


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
  | (?P<ident>\.?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<symbol>[{}()\[\]<>;,=:.\-])
""", re.VERBOSE | re.DOTALL)


def _tokenize(text, filename):
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            line = text.count("\n", 0, pos) + 1
            raise ProtoError(f"{filename}:{line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind not in ("ws", "line_comment", "block_comment"):
            tokens.append((kind, m.group(kind), text.count("\n", 0, pos) + 1))
        pos = m.end()
    return tokens


def _camel(name):
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


class _Parser:
    def __init__(self, text, filename):
        self.filename = filename
        self.tokens = _tokenize(text, filename)
        self.i = 0

    # token helpers
    def peek(self, ahead=0):
        j = self.i + ahead
        return self.tokens[j][1] if j < len(self.tokens) else None

    def next(self):
        if self.i >= len(self.tokens):
            raise ProtoError(f"{self.filename}: unexpected end of file")
        tok = self.tokens[self.i]
        self.i += 1
        return tok[1]

    def fail(self, msg):
        line = self.tokens[min(self.i, len(self.tokens) - 1)][2] if self.tokens else 0
        raise ProtoError(f"{self.filename}:{line}: {msg}")

    def expect(self, value):
        got = self.next()
        if got != value:
            self.i -= 1
            self.fail(f"expected {value!r}, got {got!r}")

    def accept(self, value):
        if self.peek() == value:
            self.i += 1
            return True
        return False

    def kind(self):
        return self.tokens[self.i][0] if self.i < len(self.tokens) else None

    def string(self):
        if self.kind() != "string":
            self.fail(f"expected a string, got {self.peek()!r}")
        parts = []
        while self.kind() == "string":  # adjacent literals concatenate
            raw = self.next()[1:-1]
            parts.append(raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
                         if "\\" in raw else raw)
        return "".join(parts)

    def ident(self):
        if self.kind() != "ident":
            self.fail(f"expected a name, got {self.peek()!r}")
        return self.next()

    def integer(self):
        tok = self.next()
        try:
            return int(tok, 0)
        except ValueError:
            self.i -= 1
            self.fail(f"expected an integer, got {tok!r}")

    def skip_balanced(self, open_, close):
        self.expect(open_)
        depth = 1
        while depth:
            tok = self.next()
            if tok == open_:
                depth += 1
            elif tok == close:
                depth -= 1

    def skip_option_value(self):
        if self.peek() == "{":
            self.skip_balanced("{", "}")
        elif self.peek() == "-":
            self.next()
            self.next()
        elif self.kind() == "string":
            self.string()
        else:
            self.next()

    def option_name(self):
        if self.accept("("):
            self.ident()
            self.expect(")")
        else:
            self.ident()
        while self.peek() and self.peek().startswith("."):  # (ext).sub or .sub
            self.next()

    def option_statement(self):
        self.expect("option")
        self.option_name()
        self.expect("=")
        self.skip_option_value()
        self.expect(";")

    def field_options(self):
        """Skips `[a = 1, (b).c = "x"]`."""
        if self.peek() == "[":
            self.skip_balanced("[", "]")

    # grammar
    def parse_file(self):
        f = {"syntax": "proto2", "package": "", "imports": [], "messages": [], "enums": [],
             "services": []}
        while self.i < len(self.tokens):
            tok = self.peek()
            if tok == ";":
                self.next()
            elif tok == "syntax":
                self.next()
                self.expect("=")
                f["syntax"] = self.string()
                self.expect(";")
            elif tok == "package":
                self.next()
                f["package"] = self.ident()
                self.expect(";")
            elif tok == "import":
                self.next()
                if self.peek() in ("public", "weak"):
                    self.next()
                f["imports"].append(self.string())
                self.expect(";")
            elif tok == "option":
                self.option_statement()
            elif tok == "message":
                f["messages"].append(self.message())
            elif tok == "enum":
                f["enums"].append(self.enum())
            elif tok == "service":
                f["services"].append(self.service())
            elif tok == "extend":
                self.next()
                self.ident()
                self.skip_balanced("{", "}")
            else:
                self.fail(f"unexpected {tok!r}")
        return f

    def message(self):
        self.expect("message")
        m = {"name": self.ident(), "fields": [], "oneofs": [], "messages": [], "enums": []}
        self.expect("{")
        while not self.accept("}"):
            tok = self.peek()
            if tok == ";":
                self.next()
            elif tok == "message":
                m["messages"].append(self.message())
            elif tok == "enum":
                m["enums"].append(self.enum())
            elif tok == "option":
                self.option_statement()
            elif tok in ("reserved", "extensions"):
                while self.next() != ";":
                    pass
            elif tok == "extend":
                self.next()
                self.ident()
                self.skip_balanced("{", "}")
            elif tok == "oneof":
                self.next()
                index = len(m["oneofs"])
                m["oneofs"].append(self.ident())
                self.expect("{")
                while not self.accept("}"):
                    if self.peek() == "option":
                        self.option_statement()
                    elif self.accept(";"):
                        pass
                    else:
                        field = self.field(None)
                        field["oneof"] = index
                        m["fields"].append(field)
            elif tok == "map":
                m["fields"].append(self.map_field(m))
            else:
                label = None
                if tok in ("repeated", "optional", "required"):
                    label = self.next()
                m["fields"].append(self.field(label))
        return m

    def field(self, label):
        type_name = self.ident()
        name = self.ident()
        self.expect("=")
        number = self.integer()
        self.field_options()
        self.expect(";")
        return {"label": label, "type": type_name, "name": name, "number": number}

    def map_field(self, m):
        self.expect("map")
        self.expect("<")
        key = self.ident()
        self.expect(",")
        value = self.ident()
        self.expect(">")
        name = self.ident()
        self.expect("=")
        number = self.integer()
        self.field_options()
        self.expect(";")
        entry = _camel(name) + "Entry"
        m["messages"].append({
            "name": entry, "map_entry": True, "oneofs": [], "messages": [], "enums": [],
            "fields": [{"label": None, "type": key, "name": "key", "number": 1},
                       {"label": None, "type": value, "name": "value", "number": 2}],
        })
        return {"label": "repeated", "type": entry, "name": name, "number": number}

    def enum(self):
        self.expect("enum")
        e = {"name": self.ident(), "values": []}
        self.expect("{")
        while not self.accept("}"):
            tok = self.peek()
            if tok == ";":
                self.next()
            elif tok == "option":
                self.option_statement()
            elif tok == "reserved":
                while self.next() != ";":
                    pass
            else:
                name = self.ident()
                self.expect("=")
                number = self.integer()
                self.field_options()
                self.expect(";")
                e["values"].append((name, number))
        return e

    def service(self):
        self.expect("service")
        s = {"name": self.ident(), "methods": []}
        self.expect("{")
        while not self.accept("}"):
            tok = self.peek()
            if tok == ";":
                self.next()
            elif tok == "option":
                self.option_statement()
            elif tok == "rpc":
                self.next()
                name = self.ident()
                self.expect("(")
                client_streaming = self.accept("stream")
                request = self.ident()
                self.expect(")")
                self.expect("returns")
                self.expect("(")
                server_streaming = self.accept("stream")
                response = self.ident()
                self.expect(")")
                if self.peek() == "{":
                    self.skip_balanced("{", "}")
                else:
                    self.expect(";")
                s["methods"].append((name, request, response, client_streaming, server_streaming))
            else:
                self.fail(f"unexpected {tok!r} in service")
        return s


def _collect_types(prefix, messages, enums, out):
    for e in enums:
        out[f"{prefix}.{e['name']}"] = "enum"
    for m in messages:
        full = f"{prefix}.{m['name']}"
        out[full] = "message"
        _collect_types(full, m["messages"], m["enums"], out)


def _collect_descriptor_types(prefix, messages, enums, out):
    for e in enums:
        out[f"{prefix}.{e.name}"] = "enum"
    for m in messages:
        full = f"{prefix}.{m.name}"
        out[full] = "message"
        _collect_descriptor_types(full, m.nested_type, m.enum_type, out)


class ProtoSet:
    """The files named (and everything they import), parsed and loaded into one pool."""

    def __init__(self, roots, files):
        self.roots = [os.path.abspath(r) for r in roots]
        self.files = {}      # name -> FileDescriptorProto
        self.order = []      # dependencies first
        self.types = {}      # ".full.Name" -> "message" | "enum"
        for name in files:
            self._load(name, ())
        self.pool = descriptor_pool.DescriptorPool()
        for name in self.order:
            self.pool.AddSerializedFile(self.files[name].SerializeToString())
        self._factory = message_factory.MessageFactory(self.pool)
        self._classes = {}

    # loading
    def _load(self, name, stack):
        if name in self.files:
            return
        if name in stack:
            raise ProtoError(f"import cycle: {' -> '.join(stack + (name,))}")
        path = next((os.path.join(r, name) for r in self.roots
                     if os.path.isfile(os.path.join(r, name))), None)
        if path is None and name.startswith("google/protobuf/"):
            fdp = self._bundled(name)
            for dep in fdp.dependency:
                self._load(dep, stack + (name,))
            pkg = "." + fdp.package if fdp.package else ""
            _collect_descriptor_types(pkg, fdp.message_type, fdp.enum_type, self.types)
            self.files[name] = fdp
            self.order.append(name)
            return
        if path is None:
            raise ProtoError(f"{name} not found under {self.roots}")
        with open(path, encoding="utf-8") as fh:
            ast = _Parser(fh.read(), name).parse_file()
        for dep in ast["imports"]:
            self._load(dep, stack + (name,))
        pkg = "." + ast["package"] if ast["package"] else ""
        _collect_types(pkg, ast["messages"], ast["enums"], self.types)
        self.files[name] = self._build(name, ast)
        self.order.append(name)

    @staticmethod
    def _bundled(name):
        module = "google.protobuf." + name[len("google/protobuf/"):-len(".proto")].replace("/", ".") + "_pb2"
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise ProtoError(f"{name}: not bundled with protobuf ({e})") from e
        fdp = descriptor_pb2.FileDescriptorProto()
        mod.DESCRIPTOR.CopyToProto(fdp)
        return fdp

    # building descriptors
    def _resolve(self, type_name, scope):
        if type_name.startswith("."):
            if type_name in self.types:
                return type_name
        else:
            parts = scope.split(".") if scope else []
            while True:
                candidate = ".".join(parts + [type_name])
                candidate = candidate if candidate.startswith(".") else "." + candidate
                if candidate in self.types:
                    return candidate
                if not parts:
                    break
                parts.pop()
        raise ProtoError(f"unknown type {type_name} (in {scope or 'file scope'})")

    def _build(self, name, ast):
        fdp = descriptor_pb2.FileDescriptorProto(name=name, package=ast["package"])
        if ast["syntax"] == "proto3":
            fdp.syntax = "proto3"
        fdp.dependency.extend(ast["imports"])
        scope = "." + ast["package"] if ast["package"] else ""
        proto3 = ast["syntax"] == "proto3"
        for e in ast["enums"]:
            self._build_enum(fdp.enum_type.add(), e)
        for m in ast["messages"]:
            self._build_message(fdp.message_type.add(), m, scope, proto3)
        for s in ast["services"]:
            sd = fdp.service.add(name=s["name"])
            for mname, req, res, cs, ss in s["methods"]:
                md = sd.method.add(name=mname, input_type=self._resolve(req, scope),
                                   output_type=self._resolve(res, scope))
                if cs:
                    md.client_streaming = True
                if ss:
                    md.server_streaming = True
        return fdp

    @staticmethod
    def _build_enum(ed, e):
        ed.name = e["name"]
        for vname, number in e["values"]:
            ed.value.add(name=vname, number=number)

    def _build_message(self, md, m, scope, proto3):
        md.name = m["name"]
        full = f"{scope}.{m['name']}"
        if m.get("map_entry"):
            md.options.map_entry = True
        for e in m["enums"]:
            self._build_enum(md.enum_type.add(), e)
        for nested in m["messages"]:
            self._build_message(md.nested_type.add(), nested, full, proto3)
        for oneof in m["oneofs"]:
            md.oneof_decl.add(name=oneof)
        synthetic = []
        for f in m["fields"]:
            fd = md.field.add(name=f["name"], number=f["number"])
            fd.json_name = f["name"][:1] + _camel(f["name"])[1:]
            fd.label = {"repeated": FDP.LABEL_REPEATED, "required": FDP.LABEL_REQUIRED}.get(
                f["label"], FDP.LABEL_OPTIONAL)
            if f["type"] in SCALARS:
                fd.type = SCALARS[f["type"]]
            else:
                resolved = self._resolve(f["type"], full)
                fd.type_name = resolved
                fd.type = FDP.TYPE_MESSAGE if self.types[resolved] == "message" else FDP.TYPE_ENUM
            if "oneof" in f:
                fd.oneof_index = f["oneof"]
            elif proto3 and f["label"] == "optional":
                fd.proto3_optional = True
                synthetic.append(fd)
        for fd in synthetic:  # synthetic oneofs come after the real ones
            fd.oneof_index = len(md.oneof_decl)
            md.oneof_decl.add(name="_" + fd.name)

    # lookups
    def message(self, full_name):
        """The message class for a fully qualified name, e.g. "grpc.health.v1.HealthCheckRequest"."""
        cls = self._classes.get(full_name)
        if cls is None:
            desc = self.pool.FindMessageTypeByName(full_name)
            get_class = getattr(message_factory, "GetMessageClass", None)
            cls = get_class(desc) if get_class else self._factory.GetPrototype(desc)
            self._classes[full_name] = cls
        return cls

    def enum_value(self, enum_full_name, number):
        """The name of an enum value, or the number as text when it is unknown."""
        value = self.pool.FindEnumTypeByName(enum_full_name).values_by_number.get(number)
        return value.name if value else str(number)

    def method(self, path):
        """A Method for "/package.Service/Method" (the gRPC path)."""
        service, _, name = path.lstrip("/").partition("/")
        sd = self.pool.FindServiceByName(service)
        md = sd.methods_by_name.get(name)
        if md is None:
            raise ProtoError(f"{service} has no method {name}")
        return Method(path if path.startswith("/") else "/" + path,
                      self.message(md.input_type.full_name), self.message(md.output_type.full_name),
                      md.client_streaming, md.server_streaming)

    def file_descriptor_set(self):
        fds = descriptor_pb2.FileDescriptorSet()
        for name in self.order:
            fds.file.add().CopyFrom(self.files[name])
        return fds
