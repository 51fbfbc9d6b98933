from tests.courses.conftest import World, world

__all__ = ["World", "world"]
