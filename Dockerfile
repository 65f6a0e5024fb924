# The course image dnlab/course: the course in /opt/dnlab, its venv (with the classroom extra), Debian's
# docker.io 28.5 (the lab's engine) and Debian 13's 26.1, the lab images prebuilt, JupyterLab.
#
#   docker build -t dnlab/course .
#   docker run --rm -it --privileged -p 127.0.0.1:8888:8888 dnlab/course          # the course
#
# The test variant adds what `make test` inside needs (the test tools, Chromium):
#
#   docker build --build-arg VARIANT=test -t dnlab/course:test .
#   docker run --rm -it --privileged dnlab/course:test make test                   # its test suite
#
# The build steps are scripts/course-image/steps.sh alone: `make course-image [VARIANT=test] [ARCH=arm64]`
# runs the same script in a debootstrapped Debian 13 root and imports it offline with this file's ENV,
# WORKDIR, VOLUME, EXPOSE, ENTRYPOINT and CMD as `docker import --change` lines
# (helpers/hosting/course_image.py reads them here).
FROM debian:trixie
ARG VARIANT=learner
COPY . /opt/dnlab
RUN bash /opt/dnlab/scripts/course-image/steps.sh "$VARIANT"
ENV PATH=/opt/dnlab/.venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
# The lab's hosts run Debian's docker.io 28.5 (fetched by steps.sh): the engine closest to the Docker
# Desktop its learners run. `-e DNLAB_ENGINE=system` runs Debian 13's own 26.1 instead.
ENV DNLAB_ENGINE=28
WORKDIR /opt/dnlab
# The nested engines' data roots: overlay2 cannot stack on the image's own overlayfs, a volume is
# the outer machine's filesystem.
VOLUME /var/lib/dnlab
EXPOSE 8888
ENTRYPOINT ["/opt/dnlab/scripts/course-image/entrypoint.sh"]
CMD []
