"""The tools registry: one YAML file per tool under docs/data/tools/, and the parts in parts.yaml.

The schema is declared here once; every card, part index, timeline and selector reads
``load_registry``. A bad file stops the build naming the file, the tool and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scripts.datafiles import Field, load_yaml, validate_record
from scripts.errors import BuildError

STATUSES = ("active", "maintenance", "deprecated", "renamed")
PLATFORMS = ("linux", "macos", "windows", "android", "ios", "web", "cloud")
HARDWARE = ("cpu", "nvidia", "amd", "intel", "apple", "tpu", "mobile", "other")
EXECUTION_MODES = ("main", "side", "recorded", "none")
# What a reader may want to do, and the languages a tool is used from: the stack selector's filters.
USES = ("train", "fine-tune", "serve", "on-device", "kernels")
LANGUAGES = ("python", "cpp", "c", "swift", "java-kotlin", "javascript", "csharp", "any")
# Facts that each need their own source URL.
SOURCED_FACTS = ("maintainer", "license", "first_release", "status", "platforms", "hardware", "languages")

PART_FIELDS = (
    Field("id", "slug"),
    Field("title"),
    Field("summary"),
)

TOOL_FIELDS = (
    Field("id", "slug"),
    Field("name"),
    Field("part", "slug"),
    Field("description"),
    Field("maintainer"),
    Field("license"),
    Field("first_release", "partial-date"),
    Field("status", "choice", choices=STATUSES),
    Field("successor", "slug", required=False, nullable=True),
    Field("status_note", required=False, nullable=True),
    Field("platforms", "choices", choices=PLATFORMS),
    Field("hardware", "choices", choices=HARDWARE),
    Field("uses", "choices", choices=USES),
    Field("languages", "choices", choices=LANGUAGES),
    Field("links", "record", fields=(
        Field("home", "url"),
        Field("docs", "url"),
        Field("repository", "url", nullable=True),
    )),
    Field("execution", "record", fields=(
        Field("mode", "choice", choices=EXECUTION_MODES),
        Field("env", "slug", required=False, nullable=True),
        Field("gpu", required=False, nullable=True),
        Field("reason", required=False, nullable=True),
    )),
    Field("sources", "record", fields=tuple(Field(name, "url") for name in SOURCED_FACTS)),
    Field("verified", "date"),
)


@dataclass(frozen=True)
class Part:
    id: str
    title: str
    summary: str


@dataclass(frozen=True)
class Tool:
    id: str
    name: str
    part: str
    description: str
    maintainer: str
    license: str
    first_release: str
    status: str
    successor: str | None
    status_note: str | None
    platforms: list
    hardware: list
    uses: list
    languages: list
    links: dict
    execution: dict
    sources: dict
    verified: object
    path: Path

    @property
    def page(self) -> str:
        """The tool page's path relative to docs/."""
        return f"{self.part}/{self.id}.md"


@dataclass(frozen=True)
class Registry:
    parts: dict[str, Part]
    tools: dict[str, Tool]

    def tool(self, tool_id: str, where: str) -> Tool:
        if tool_id not in self.tools:
            raise BuildError(where, f"unknown tool id {tool_id!r}; known ids are listed in docs/data/tools/")
        return self.tools[tool_id]

    def part(self, part_id: str, where: str) -> Part:
        if part_id not in self.parts:
            raise BuildError(where, f"unknown part {part_id!r}; expected one of {', '.join(self.parts)}")
        return self.parts[part_id]

    def tools_in(self, part_id: str) -> list[Tool]:
        return sorted((t for t in self.tools.values() if t.part == part_id), key=lambda t: t.name.lower())


def load_parts(path: Path) -> dict[str, Part]:
    data = load_yaml(path)
    if not isinstance(data, list) or not data:
        raise BuildError(str(path), "expected a list of parts")
    parts: dict[str, Part] = {}
    for i, item in enumerate(data, start=1):
        clean = validate_record(item, PART_FIELDS, f"{path}, part {i}")
        if clean["id"] in parts:
            raise BuildError(f"{path}, part '{clean['id']}'", "duplicate id")
        parts[clean["id"]] = Part(**clean)
    return parts


def _check_tool(tool: dict, where: str, parts: dict[str, Part]) -> None:
    if tool["part"] not in parts:
        raise BuildError(f"{where}, field 'part'", f"unknown part {tool['part']!r}; expected one of {', '.join(parts)}")
    if tool["status"] == "renamed" and not tool["successor"]:
        raise BuildError(f"{where}, field 'successor'", "a renamed tool must name its successor")
    if tool["status"] == "active" and tool["successor"]:
        raise BuildError(f"{where}, field 'successor'", "an active tool has no successor")
    execution = tool["execution"]
    needs = {"side": "env", "recorded": "gpu", "none": "reason"}.get(execution["mode"])
    if needs and not execution[needs]:
        raise BuildError(f"{where}, field 'execution.{needs}'", f"required when execution.mode is {execution['mode']}")


def load_registry(data_dir: Path) -> Registry:
    parts = load_parts(data_dir / "parts.yaml")
    tools: dict[str, Tool] = {}
    files = sorted((data_dir / "tools").glob("*.yaml"))
    if not files:
        raise BuildError(str(data_dir / "tools"), "no tool files found")
    entries = []
    for path in files:
        data = load_yaml(path)
        name = data.get("id") if isinstance(data, dict) else None
        where = f"{path}, tool '{name or path.stem}'"
        entries.append((path, where, validate_record(data, TOOL_FIELDS, where)))
    declared: dict[str, Path] = {}
    for path, where, clean in entries:  # duplicates first: a copied file also has the wrong name
        if clean["id"] in declared:
            other = declared[clean["id"]]
            raise BuildError(f"{where}, field 'id'", f"duplicate id, also declared by {other}")
        declared[clean["id"]] = path
    for path, where, clean in entries:
        if clean["id"] != path.stem:
            raise BuildError(f"{where}, field 'id'", f"must equal the file name {path.stem!r}")
        _check_tool(clean, where, parts)
        tools[clean["id"]] = Tool(**clean, path=path)
    for tool in tools.values():
        if tool.successor and tool.successor not in tools:
            raise BuildError(f"{tool.path}, tool '{tool.id}', field 'successor'",
                             f"names {tool.successor!r}, which is not a tool in the registry")
    return Registry(parts, tools)
