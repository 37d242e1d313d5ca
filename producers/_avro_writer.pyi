"""Types of the C extension in _avro_writer.c (avro_encoder.py compiles its programs)."""

class Deferred(Exception):
    """The writer does not take this value as is; fastavro encodes or refuses it."""

class Writer:
    def __init__(self, program: tuple[object, ...], header: bytes) -> None: ...
    def encode(self, value: object) -> bytes:
        """The header, then the value's Avro encoding; raises Deferred if it does not take the value as is."""
