"""The handover: what a City gives the processes that serve and load it, so that they need
not build it again. The served cameras, each with its streams' specs and seeds (drawn from
the City's one seed tree), the districts with a backup link, and the names the city's
timeline may use.

`camsim lab` writes it once into OUT/run/cameras.json (`simulator/lab/inputs.py`) and its
children read it back through this model (`Handover.parse`: checked, one error naming the
file and the field); a standalone `camsim serve` builds the same from its own City
(`Handover.of`), so a stream is the same whichever way it was handed over. Pure: the callers
read and write the file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulator.limits import MiB, clip, decode, loads_json
from simulator.model.city import City
from simulator.model.selection import select
from simulator.scenario.cameras import parse_resolution
from simulator.timeline.event import LinkId
from simulator.timeline.jsonl import Names

HANDOVER_BYTES = 256 * MiB  # 450 cameras: about 200 kB
VERSION = 1

Positive = Annotated[float, Field(gt=0)]
Seed32 = Annotated[int, Field(ge=0, le=0xFFFFFFFF)]
Pixels = Annotated[int, Field(ge=1, le=99_999)]  # as a scenario's WIDTHxHEIGHT


def _link(text: str) -> str:
    LinkId.parse(text)  # ValueError: an unknown kind, a name missing
    return text


def _has_main(streams: dict) -> dict:
    if "main" not in streams:
        raise ValueError("no main stream")
    return streams


Link = Annotated[str, AfterValidator(_link)]


class HandoverError(ValueError):
    """A handover that cannot be read: one line naming the file and the field."""


class Record(BaseModel):
    """A part of the handover: every field given, typed, finite; nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class StreamSpec(Record):
    """One stream of a camera as the model has it: what `camsim serve` encodes and loops."""

    codec: Literal["h264", "h265", "mjpeg"]
    width: Pixels
    height: Pixels
    fps: Annotated[float, Field(gt=0, le=120)]
    gop: Annotated[int, Field(ge=1, le=1_000_000)]  # a sub-stream's: the main's, rescaled
    mbps: Positive  # mean bitrate by day (× the camera's night factor by night)
    cap_factor: Annotated[float, Field(ge=1)]  # VBR peak, × the mean
    seed: Seed32  # from the seed tree: SSRC, first sequence number, loop offset, loss draws


class ServedCamera(Record):
    """One served camera: where it is, its street profile and its streams."""

    id: Annotated[str, Field(min_length=1)]
    index: Annotated[int, Field(ge=0, lt=1 << 31)]  # in the city's camera table: its phase
    group: str  # its camera group's name
    district: str
    scene: Literal["simple", "normal", "complex"]
    activity: Literal["low", "medium", "high"]
    night_factor: Positive
    streams: Annotated[dict[Literal["main", "sub"], StreamSpec], AfterValidator(_has_main)]


class TimelineNames(Record):
    """What the city's timeline may name (`Names`); every camera's access link implied."""

    cameras: list[str]
    districts: list[str]
    links: list[Link]  # the district uplinks and backups, and the core
    servers: list[str]

    @classmethod
    def of(cls, names: Names) -> TimelineNames:
        links = sorted(str(x) for x in names.links if x.kind != "access")
        return cls(cameras=sorted(names.cameras), districts=sorted(names.districts),
                   links=links, servers=sorted(names.servers))  # fmt: skip

    def names(self) -> Names:
        links = {LinkId.parse(x) for x in self.links} | {LinkId("access", c) for c in self.cameras}
        return Names(frozenset(self.cameras), frozenset(self.districts), frozenset(links),
                     frozenset(self.servers))  # fmt: skip


class Handover(Record):
    """A City's served cameras and what its timeline may name, for its children."""

    version: Literal[1]
    seed: int  # the scenario's simulation.seed, the root of the seed tree
    cameras: Annotated[list[ServedCamera], Field(min_length=1)]
    backups: list[str]  # districts with a backup link (a fault on the uplink moves to it)
    names: TimelineNames

    @model_validator(mode="after")
    def _consistent(self) -> Handover:
        known, districts = set(self.names.cameras), set(self.names.districts)
        seen: set[str] = set()
        for i, cam in enumerate(self.cameras):
            where = f"cameras.{i}"
            if cam.id in seen:
                raise ValueError(f"{where}.id: {clip(cam.id)!r} twice")
            if cam.id not in known:
                raise ValueError(f"{where}.id: {clip(cam.id)!r} is not in names.cameras")
            if cam.district not in districts:
                raise ValueError(f"{where}.district: {clip(cam.district)!r} is not in "
                                 "names.districts")  # fmt: skip
            seen.add(cam.id)
        unknown = [d for d in self.backups if d not in districts]
        if unknown:
            raise ValueError(f"backups: {clip(unknown[0])!r} is not in names.districts")
        return self

    @classmethod
    def of(cls, city: City, indexes: Sequence[int] | None = None) -> Handover:
        """The cameras at `indexes` (None: all) of `city`, as its children get them."""
        chosen = range(len(city.table)) if indexes is None else indexes
        scenario = city.scenario
        backups = [d.name for d in scenario.network.districts if d.backup is not None]
        return cls(version=VERSION, seed=scenario.simulation.seed,
                   cameras=[_camera(city, int(i)) for i in chosen], backups=backups,
                   names=TimelineNames.of(city.names))  # fmt: skip

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.cameras]

    def select(self, cameras: str | None = None, shard: str | None = None) -> Handover:
        """Some of its cameras, as `City.select` chooses a city's (ValueError on bad input)."""
        if not (cameras or shard):
            return self
        chosen = select(self.ids, cameras, shard)
        return self.model_copy(update={"cameras": [self.cameras[i] for i in chosen]})

    def to_json(self) -> str:
        """The file's text (indented, one field a line)."""
        return self.model_dump_json(indent=1) + "\n"

    @classmethod
    def parse(cls, data: bytes, source: str) -> Handover:
        """The handover in `data` (the file `source`'s bytes), checked; HandoverError."""
        try:
            raw = loads_json(decode(data), HANDOVER_BYTES)
            return cls.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in err["loc"])
            msg = " ".join(err["msg"].removeprefix("Value error, ").split())
            where = f"{clip(loc)}: " if loc else ""
            raise HandoverError(f"{source}: {where}{clip(msg, 200)}") from None
        except ValueError as exc:  # not JSON, not UTF-8, beyond the limits
            raise HandoverError(f"{source}: {clip(' '.join(str(exc).split()), 200)}") from None


def _camera(city: City, i: int) -> ServedCamera:
    """Camera `i` of the city, its streams' specs and seeds."""
    table = city.table
    g = city.scenario.cameras[int(table.group[i])]
    cid = table.ids[i]
    variants = [("main", g.resolution, g.fps, g.gop, table.main_mbps[i])]
    if g.sub_stream.enabled:
        sub_gop = max(1, round(g.gop * g.sub_stream.fps / g.fps))
        variants.append(
            ("sub", g.sub_stream.resolution, g.sub_stream.fps, sub_gop, table.sub_mbps[i])
        )
    streams = {}
    for name, res, fps, gop, mbps in variants:
        w, h = parse_resolution(res)
        seed = city.seeds.integer("streams", cid, name) & 0xFFFFFFFF
        streams[name] = StreamSpec(codec=g.codec, width=w, height=h, fps=float(fps),
                                   gop=int(gop), mbps=float(mbps),
                                   cap_factor=float(g.bitrate.cap_factor), seed=seed)  # fmt: skip
    return ServedCamera(id=cid, index=i, group=g.name, district=city.district_of(i),
                        scene=g.scene, activity=g.activity,
                        night_factor=float(table.night_factor[i]), streams=streams)  # fmt: skip
