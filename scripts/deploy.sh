#!/usr/bin/env bash
# Rolling restart of the failover pair and the edges, without a refused request (issue 24 part 1;
# README "Deploys and crashes"). Build the new release first (npm ci && npm run build); then:
#
#   scripts/deploy.sh                      # systemd: tap-core@a/b (tap-core.socket), tap-edge@<port>
#   DEPLOY_CONTROL=supervisor RUN_DIR=… scripts/deploy.sh   # the same steps against runtime/supervisor.ts
#
# Steps, each waited for (DEPLOY_STEP_TIMEOUT_S, default 60) before the next:
#   1. restart the standby core, and wait until the new process is a warm standby;
#   2. stop the holder (SIGTERM: it stops accepting, drains, flushes the writer, releases the lease),
#      and wait until the other core holds the lease — it then accepts on the shared socket, where
#      the connections of the handover waited;
#   3. wait until the old holder is back (new code) as the standby;
#   4. restart the edges one at a time, each waited for until its /readyz answers 200.
# Each core reports its state in <RUN_DIR>/core-<name>.state ("standby <pid>", "holder <pid>", …).
#
# Settings (environment): DEPLOY_CONTROL systemd|supervisor; RUN_DIR (default /run/tap-backend);
# CORES (default "a b"); EDGE_PORTS (default: the tap-edge@ instances running, or the supervisor's
# edge-<port>.pid files); EDGE_HOST (default 127.0.0.1).
set -euo pipefail

CONTROL=${DEPLOY_CONTROL:-systemd}
RUN_DIR=${RUN_DIR:-/run/tap-backend}
CORES=${CORES:-a b}
EDGE_HOST=${EDGE_HOST:-127.0.0.1}
TIMEOUT_S=${DEPLOY_STEP_TIMEOUT_S:-60}

say() { printf '%s deploy: %s\n' "$(date -u +%H:%M:%S.%3N)" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

# "<state> <pid>" of a core, or "none 0".
core_state() { cat "$RUN_DIR/core-$1.state" 2>/dev/null || echo "none 0"; }
state_of() { core_state "$1" | cut -d' ' -f1; }
pid_of() { core_state "$1" | cut -d' ' -f2; }
alive() { [ "$1" != 0 ] && kill -0 "$1" 2>/dev/null; }

# wait_for <description> <command…>: polls every 50 ms until the command succeeds.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + TIMEOUT_S))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${TIMEOUT_S}s waiting for: $what"
    sleep 0.05
  done
}

# is_core <name> <state> <not-pid>: the core is in that state, in a live process other than <not-pid>.
is_core() { local p; p=$(pid_of "$1"); [ "$(state_of "$1")" = "$2" ] && [ "$p" != "$3" ] && alive "$p"; }

restart_core() {
  case $CONTROL in
    systemd) systemctl restart "tap-core@$1.service" ;;
    # The supervisor starts a core again as soon as it exited: SIGTERM is a restart.
    supervisor) kill -TERM "$(pid_of "$1")" ;;
    *) die "DEPLOY_CONTROL must be systemd or supervisor" ;;
  esac
}

edge_ports() {
  # Set, even empty (no edges): that list.
  if [ -n "${EDGE_PORTS+set}" ]; then echo "$EDGE_PORTS"; return; fi
  case $CONTROL in
    systemd) systemctl list-units --state=running --plain --no-legend 'tap-edge@*.service' | sed -E 's/^tap-edge@([0-9]+)\.service.*/\1/' | tr '\n' ' ' ;;
    supervisor) for f in "$RUN_DIR"/edge-*.pid; do if [ -e "$f" ]; then basename "$f" .pid | sed 's/^edge-//'; fi; done | tr '\n' ' ' ;;
  esac
}

edge_pid() { cat "$RUN_DIR/edge-$1.pid" 2>/dev/null || echo 0; }
edge_ready() { curl -fsS -o /dev/null --max-time 2 "http://$EDGE_HOST:$1/readyz"; }
edge_restarted() { local p; p=$(edge_pid "$1"); [ "$p" != "$2" ] && alive "$p" && edge_ready "$1"; }

restart_edge() {
  case $CONTROL in
    systemd) systemctl restart "tap-edge@$1.service"; wait_for "edge $1 ready" edge_ready "$1" ;;
    supervisor)
      local old; old=$(edge_pid "$1")
      kill -TERM "$old"
      wait_for "edge $1 restarted and ready" edge_restarted "$1" "$old" ;;
  esac
}

# Which core holds the lease, which one is the standby.
read -r -a names <<<"$CORES"
[ "${#names[@]}" -eq 2 ] || die "CORES must name two cores (got: $CORES)"
holder="" standby=""
wait_for "one core holding the lease and the other a warm standby" bash -c "
  s0=\$(cut -d' ' -f1 '$RUN_DIR/core-${names[0]}.state' 2>/dev/null); s1=\$(cut -d' ' -f1 '$RUN_DIR/core-${names[1]}.state' 2>/dev/null)
  [ \"\$s0 \$s1\" = 'holder standby' ] || [ \"\$s0 \$s1\" = 'standby holder' ]"
if [ "$(state_of "${names[0]}")" = holder ]; then holder=${names[0]}; standby=${names[1]}; else holder=${names[1]}; standby=${names[0]}; fi
say "holder: core $holder (pid $(pid_of "$holder")), standby: core $standby (pid $(pid_of "$standby"))"

old_standby=$(pid_of "$standby")
say "1/4 restarting the standby (core $standby)"
restart_core "$standby"
wait_for "core $standby back as a warm standby" is_core "$standby" standby "$old_standby"
say "    core $standby is a warm standby again (pid $(pid_of "$standby"))"

old_holder=$(pid_of "$holder")
say "2/4 handing over: stopping the holder (core $holder, pid $old_holder)"
restart_core "$holder"
wait_for "core $standby holding the lease" is_core "$standby" holder "$old_standby"
say "    core $standby holds the lease"

say "3/4 waiting for core $holder to come back as the standby"
wait_for "core $holder back as a warm standby" is_core "$holder" standby "$old_holder"
say "    core $holder is the standby (pid $(pid_of "$holder"))"

ports=$(edge_ports)
say "4/4 edges, one at a time: ${ports:-none}"
for port in $ports; do
  restart_edge "$port"
  say "    edge $port ready"
done
say "done"
