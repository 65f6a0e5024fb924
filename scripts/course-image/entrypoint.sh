#!/usr/bin/env bash
# The course image's entrypoint (Dockerfile ENTRYPOINT).
#
#   docker run --rm -it --privileged -p 127.0.0.1:8888:8888 dnlab/course
#       the lab world up inside the container, then JupyterLab on 0.0.0.0:8888 (the publish decides
#       who reaches it) with a random token, printed as a ready-to-click line; the world goes down
#       when the container stops.
#   docker run --rm -it --privileged dnlab/course make test
#       any command, run in /opt/dnlab (after the cgroup step below).
#   JUPYTERHUB_API_TOKEN set (a hub's DockerSpawner started the container)
#       the world up, then jupyterhub-singleuser on 0.0.0.0:8888 with the spawner's arguments.
#   docker run ... -e DNLAB_LANG=ja dnlab/course
#       the Japanese edition: JupyterLab opens notebooks/ja/00_setup.ipynb, its menus in Japanese
#       (helpers/hosting/jupyterlab.py; a hub passes DNLAB_LANG in the spawner's environment).
#
# Nested engines: on cgroup v2 (Docker Desktop, Debian 13) the container's cgroup namespace root holds
# this process; a cgroup with processes cannot give controllers to children ("no internal processes"),
# so every process moves into a child (init) first and the controllers are enabled for the children,
# where the lab's dockerds put their containers (cgroup-parent /dnlab-<host>). On cgroup v1 (Debian 12)
# each controller's hierarchy is already the container's own: nothing to do.
set -euo pipefail
COURSE=/opt/dnlab
PORT=8888
RUN_COMMAND="docker run --rm -it --privileged -p 127.0.0.1:$PORT:$PORT dnlab/course"
# Overridable for the unit test of nest_cgroup_v2 only (a fake tree): the real ones otherwise.
CGROUP=${DNLAB_CGROUP_ROOT:-/sys/fs/cgroup}
SELF_CGROUP=${DNLAB_SELF_CGROUP:-/proc/self/cgroup}

say() { echo "dnlab-course: $*" >&2; }

# The lab makes network namespaces, mounts, sysctls and runs dockerd: none of it works without
# --privileged, and failing later would bury the cause under a Python traceback.
require_privileged() {
  if unshare --net --mount true 2>/dev/null && [ -w /proc/sys/net/ipv4/ip_forward ]; then
    return 0
  fi
  say "this container is not privileged: the course makes network namespaces and mounts and runs"
  say "its own Docker engines inside it, which needs --privileged."
  say "fix: $RUN_COMMAND"
  exit 2
}

nest_cgroup_v2() {
  [ -f "$CGROUP/cgroup.controllers" ] || return 0   # cgroup v1: each hierarchy is the container's own
  if [ "$(cat "$SELF_CGROUP")" != "0::/" ]; then
    # No private cgroup namespace (--cgroupns=host): the root here is the machine's; leave it alone.
    say "cgroup v2 without a private cgroup namespace: the lab's engines nest under $(cut -d: -f3 "$SELF_CGROUP")"
    return 0
  fi
  mkdir -p "$CGROUP/init"
  # Repeat: a process started while moving the others would keep the root busy.
  local pid tries
  for tries in 1 2 3 4 5; do
    # Read, not `[ -s ]`: the kernel's cgroup files all have size 0 (`-s` never saw a process here).
    [ -n "$(cat "$CGROUP/cgroup.procs")" ] || break
    while read -r pid; do
      echo "$pid" > "$CGROUP/init/cgroup.procs" 2>/dev/null || true   # a process gone meanwhile
    done < "$CGROUP/cgroup.procs"
  done
  local controller
  for controller in $(cat "$CGROUP/cgroup.controllers"); do
    # One by one: a controller the outer engine did not delegate must not stop the others.
    echo "+$controller" > "$CGROUP/cgroup.subtree_control" 2>/dev/null \
      || say "cgroup v2: controller $controller cannot be enabled for the lab's engines (tries: $tries)"
  done
}

server_pid=""
# The server and the world go down side by side: neither needs the other, and `docker stop` (a hub's
# culler, `make classroom-down`) waits for both. One after the other they took 1.3-2.7 s (the server's
# shutdown) plus 2-3 s (the world's) on a loaded 2-core machine.
stop_all() {
  local rc=${1:-0}
  trap - TERM INT
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null || true   # gone already: set -e must not end here
  say "taking the lab world down"
  dnlab down >/dev/null 2>&1 || true
  [ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
  exit "$rc"
}

# Answers on the port (any status): the server is listening.
wait_listening() {
  local i
  for i in $(seq 1 600); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/" && return 0
    kill -0 "$server_pid" 2>/dev/null || { say "the server exited before it answered"; return 1; }
    sleep 0.05
  done
  return 1
}

# The server and the world start together (each takes a few seconds); the ready line comes when both are.
serve() {
  trap stop_all TERM INT
  "$@" &
  server_pid=$!
  if ! dnlab up; then
    say "the lab world did not come up (above: why)"
    stop_all 1
  fi
  wait_listening || stop_all 1
}

# The language's first notebook ($DNLAB_LANG, else a Japanese locale, else English); JupyterLab's own
# language setting is written for it on the way.
first_notebook() {
  (cd "$COURSE" && python -m helpers.hosting.jupyterlab)
}

serve_lab() {
  # The token is the only key to a root shell in a privileged container: random, never a default.
  # From the kernel's random source with od, not a Python (its start is time the learner waits for).
  JUPYTER_TOKEN=${JUPYTER_TOKEN:-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}
  export JUPYTER_TOKEN
  local first
  first=$(first_notebook)
  serve jupyter lab --ip 0.0.0.0 --port "$PORT" --no-browser --allow-root \
    --ServerApp.root_dir="$COURSE" --ServerApp.log_level=WARN "$first"
  echo
  echo "  The course is ready. Open (the token is this run's own):"
  echo "    http://127.0.0.1:$PORT/lab/tree/$first?token=$JUPYTER_TOKEN"
  echo "  JupyterLab's start page: http://127.0.0.1:$PORT/lab?token=$JUPYTER_TOKEN"
  echo "  Stop with Ctrl-C (or docker stop): the lab world goes down with the container."
  echo
  wait "$server_pid" || true
  stop_all
}

serve_hub() {
  [ "${1:-}" = jupyterhub-singleuser ] && shift   # the spawner's cmd may name it again
  first_notebook >/dev/null   # JupyterLab's language; the hub's default_url opens the notebook
  serve jupyterhub-singleuser --ip 0.0.0.0 --port "$PORT" "$@"
  say "ready for the hub: jupyterhub-singleuser on port $PORT"
  wait "$server_pid" || true
  stop_all
}

main() {
  require_privileged
  nest_cgroup_v2
  cd "$COURSE"
  if [ -n "${JUPYTERHUB_API_TOKEN:-}" ]; then
    serve_hub "$@"
  elif [ $# -gt 0 ]; then
    exec "$@"
  else
    serve_lab
  fi
}

# Sourced (the unit test), it only defines the functions.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
