"""The course images' parts: the busybox and toolbox layers, and the `docker save` archive that
carries them (assembled and loaded by `helpers.world.image`)."""
