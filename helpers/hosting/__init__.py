"""Hosting: running the course for others, outside any lab world.

This room owns what serves the course rather than teaches it:

- `sandbox`: `ThrowawayEngine`, a dockerd of the world's own launch in a namespace of its own (no
  world, loopback only), where the course image is tested and the classroom runs;
- `runc_caps`: that engine's runtime on a machine that withholds capabilities (stdlib only, run as
  a program by dockerd);
- `course_image`: the course image (Dockerfile, `make course-image`): its settings as
  `docker import --change` lines, its cache;
- `classroom`: a workshop's JupyterHub in a throwaway engine, one course container per learner.

It uses the world (`engine`, `netns`, `lifecycle`, `naming`) and is used by the CLI (`dnlab
classroom`), classroom/ and the hosting tests. The world never imports it: what the world's `clean`
needs of a throwaway engine (its names, its removal, the sweep) is helpers/world/lifecycle.py.
"""
