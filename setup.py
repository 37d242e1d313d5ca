"""The C extension, which pyproject.toml can declare only experimentally; everything else is there.

The producer SDK's Avro writer (producers/avro_encoder.py says why it is C). Editable installs build it
in place, next to its source.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("headwater.producers._avro_writer", ["producers/_avro_writer.c"])])
