"""The lab world: namespaces, engines, the lab image and the internet service (see `naming`)."""
from helpers.world.manager import clean, discover, down, lab, scratch_engine, status, up
from helpers.world.model import DockerHost, Machine, World
from helpers.world.naming import IMAGE, WorldNames

__all__ = ["World", "Machine", "DockerHost", "WorldNames", "IMAGE", "up", "down", "clean", "status",
           "discover", "lab", "scratch_engine"]
