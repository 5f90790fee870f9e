#!/usr/bin/env bash
# A throwaway Ceph RGW (radosgw) S3 server on loopback, for tests and benchmarks against a real S3 implementation.
#   scripts/ceph-s3.sh start <dir>       start mon + osd (memstore) + radosgw; prints the endpoint and keys as env lines
#   scripts/ceph-s3.sh stop <dir>        stop them (reverse order)
#   scripts/ceph-s3.sh run -- <cmd...>   start in a temporary folder, run <cmd> with MLOPS_S3_ENDPOINT/AWS_* set, stop
# Needs Debian's radosgw, ceph-mon and ceph-osd. The settings and why each is there: docs/real-s3.md.
set -euo pipefail

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for() { # <seconds> <description> <command...>
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "ceph-s3: timed out waiting for $what (logs in $DIR/log)" >&2
      return 1
    fi
    sleep 0.2
  done
}

start() {
  DIR=$(realpath -m "$1")
  mkdir -p "$DIR"/{run,log,mon,osd}
  local fsid mon_port rgw_port osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  mon_port=$(free_port)
  rgw_port=$(free_port)
  local conf="$DIR/ceph.conf"
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
keyring = $DIR/keyring
[mon]
mon data = $DIR/mon/\$id
paxos propose interval = 0.05
[osd]
osd data = $DIR/osd/\$id
osd objectstore = memstore
memstore device bytes = ${CEPH_S3_MEMSTORE_BYTES:-8589934592}
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port tcp_nodelay=1
ms mon client mode = crc
rgw data = $DIR/rgw
CONF
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$DIR/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring"
  ceph-mon -c "$conf" -i a
  wait_for 30 "the monitor" timeout 5 ceph -c "$conf" mon stat
  local osd_id
  osd_id=$(ceph -c "$conf" osd new "$osd_uuid")
  mkdir -p "$DIR/osd/$osd_id"
  ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1
  ceph-osd -c "$conf" -i "$osd_id" 2>>"$DIR/log/osd.stderr"
  wait_for 60 "the OSD" sh -c "ceph -c '$conf' osd stat | grep -q '1 up'"
  # Foreground (-f) in our background, so its pid is known.
  radosgw -c "$conf" -n client.rgw.a -f >>"$DIR/log/radosgw.out" 2>&1 &
  echo $! >"$DIR/run/radosgw.fg.pid"
  wait_for 60 "radosgw on port $rgw_port" curl -sf "http://127.0.0.1:$rgw_port/"
  local access secret
  access="MLOPS$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)"
  secret=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
  radosgw-admin -c "$conf" -n client.rgw.a user create --uid=mlops --display-name=mlops \
    --access-key="$access" --secret-key="$secret" >/dev/null 2>>"$DIR/log/radosgw-admin.stderr"
  cat >"$DIR/env" <<ENV
MLOPS_S3_ENDPOINT=http://127.0.0.1:$rgw_port
AWS_ACCESS_KEY_ID=$access
AWS_SECRET_ACCESS_KEY=$secret
AWS_REGION=us-east-1
ENV
  cat "$DIR/env"
}

stop_pid() { # <pid file>
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 25); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  DIR=$(realpath -m "$1")
  stop_pid "$DIR/run/radosgw.fg.pid"
  for f in "$DIR"/run/osd.*.pid; do stop_pid "$f"; done
  stop_pid "$DIR/run/mon.a.pid"
}

case "${1:-}" in
  start) start "${2:?usage: ceph-s3.sh start <dir>}" ;;
  stop) stop "${2:?usage: ceph-s3.sh stop <dir>}" ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || { echo "usage: ceph-s3.sh run -- <command...>" >&2; exit 2; }
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/ceph-s3.XXXXXX")
    trap 'stop "$DIR"; rm -rf "$DIR"' EXIT
    if ! start "$DIR" >/dev/null; then
      tail -n 20 "$DIR"/log/*.log >&2 || true
      exit 3
    fi
    set -a
    # shellcheck disable=SC1091
    . "$DIR/env"
    set +a
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
  *)
    echo "usage: ceph-s3.sh start <dir> | stop <dir> | run -- <command...>" >&2
    exit 2
    ;;
esac
