"""`headwater.producers` exports its public names, and only through `__all__` (as httpx checks its own)."""

import types

import headwater.producers as sdk


def test_every_public_name_of_the_package_is_in_all_and_every_name_in_all_exists() -> None:
    public = {
        name
        for name, value in vars(sdk).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(sdk.__all__)
    assert sdk.__all__ == sorted(sdk.__all__)


def test_the_exported_members_are_defined_in_the_sdk_and_say_so() -> None:
    for name in sdk.__all__:
        member = getattr(sdk, name)
        assert member.__module__.startswith("headwater.producers."), (name, member.__module__)

