#!/usr/bin/env bash
# Which clients Debian's crowdsec flags on Apache access logs, offline, for the side-by-side with Visor's
# detect rules (issue 19). Never `apt-get install crowdsec`: its post-install registers online and leaves dpkg
# broken here. The package is fetched with `apt-get download` and unpacked with `dpkg -x` into CACHE/<.deb name>
# (kept until Debian has a newer one: 31.7 MB .deb, 110 MB unpacked); its local API runs on loopback (no Central API) from a fresh state directory,
# and the agent replays each file in time-machine mode (-dsn).
#   bash test/bench/crowdsec/compare.sh [FILE...]
# prints, per file, `# LABEL PATH` (LABEL: parent-dir/name) then one line per flag: `LABEL IP SCENARIO EVENTS`.
# test/crowdsec-side-by-side.test.ts runs it with no FILE and compares with Visor's detect on the same files.
# Exit 69 (EX_UNAVAILABLE) with a one-line reason on stderr when crowdsec cannot be obtained (no apt-get or
# dpkg, no network, no package list); any other failure exits 1.
# Default files: ../shared/corpora/crowdsec-hub-tests/*/*.log and test/fixtures/attacks/side-by-side.access.txt
# (written for this comparison, 181 lines, TEST-NET clients, one per attack: 203.0.113.10 20 missing pages,
# .11 six sensitive files, .12 CVE-2021-41773, .13 CVE-2021-42013, .22 ../ traversal, .14 12 SQLi and .15 12
# XSS probes at 1/s, .16 Log4Shell UA, .17 Shellshock UA, .18 sqlmap UA, .19 Nikto UA, .20 15 POST 401 on
# wp-login.php, .21 60 pages at 2/s; near-misses 198.51.100.30-33: static assets, three 404s, one login,
# /docs/.envoy.html).
# Measured with crowdsec 1.4.6-6~deb12u1+b1 (Debian 12), 2 shared cores: each replay takes ~3 s of which
# ~0.9 s CPU (the agent waits ~2 s for its bucket routines to shut down), so files replay side by side: the 7
# files took 15-35 s beside 30-41 s one at a time, in the same three runs at load 9-15 (the same flags).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
CACHE=${CROWDSEC_CACHE:-/tmp/visor-crowdsec}
PORT=${PORT:-18080}
CORPORA=${CORPORA:-$ROOT/../shared/corpora}
if [ $# -eq 0 ]; then set -- "$CORPORA"/crowdsec-hub-tests/*/*.log "$ROOT/test/fixtures/attacks/side-by-side.access.txt"; fi
FILES=()
for f in "$@"; do FILES+=("$(realpath -e "$f")"); done   # before any cd: relative paths are the caller's

unavailable() { echo "crowdsec cannot be obtained: $*" >&2; exit 69; }
command -v apt-get >/dev/null || unavailable "no apt-get (a Debian or Ubuntu machine is needed)"
command -v dpkg >/dev/null || unavailable "no dpkg"
command -v flock >/dev/null || unavailable "no flock (util-linux)"
# The cache is keyed on the .deb that `apt-get download` would fetch now (its name holds version and architecture,
# from the local package lists: no network), so a new Debian package is fetched and replaces the old one. Asked in
# an empty directory: apt prints nothing for a .deb already in the current one.
ASK=$(mktemp -d)
uris=$(cd "$ASK" && LC_ALL=C apt-get download --print-uris crowdsec 2>&1) || true
rmdir "$ASK"
DEB=$(awk '$2 ~ /^crowdsec_.*\.deb$/ { print $2 }' <<<"$uris")
[ -n "$DEB" ] || unavailable "apt-get knows no crowdsec package: $(grep -m1 '^E:' <<<"$uris" || echo 'no package list (apt-get update)')"
KEY=${DEB%.deb}
have() { [ -x "$CACHE/$KEY/root/usr/bin/crowdsec" ]; }
mkdir -p "$CACHE"
# A run holds the lock shared while it uses the cache (until this script exits: crowdsec's processes are not given
# fd 9, so that one left running cannot hold it); fetching takes it alone, so a newer package never removes a tree
# in use, and two first runs never fetch at once (both downloaded into CACHE, one could unpack the other's
# half-written .deb). The wait is bounded below the test's 300 s.
exec 9>"$CACHE/.lock"
flock -s 9
if ! have; then
  # From shared to alone: waits for the runs using an older package to end.
  flock -x -w 200 9 || { echo "compare.sh: $CACHE/.lock held by another run for 200 s" >&2; exit 1; }
  if ! have; then
    # What a run killed meanwhile left (its temp dir), and older packages. (The layout before the cache had keys,
    # CACHE/root and CACHE/crowdsec_*.deb, is left alone: a checkout from before may still be using it.)
    rm -rf "$CACHE"/.fetch.* "$CACHE"/crowdsec_*/
    NEW=$(mktemp -d "$CACHE/.fetch.XXXXXX")
    (cd "$NEW" && apt-get download crowdsec >&2 2>"$NEW/download.err") \
      || { err=$(grep -m1 '^E:' "$NEW/download.err" || tail -n1 "$NEW/download.err"); rm -rf "$NEW"; unavailable "apt-get download crowdsec failed: $err"; }
    got=$(cd "$NEW" && ls crowdsec_*.deb)
    KEY=${got%.deb}   # the lists changed since --print-uris: kept under the name of what was fetched
    # Unpacked in the temp dir, then renamed into place: no run ever sees half a tree.
    dpkg -x "$NEW/$got" "$NEW/root"
    rm "$NEW/download.err"
    chmod 755 "$NEW"   # mktemp made it 0700: readable by all, as the rest of CACHE
    mv -T "$NEW" "$CACHE/$KEY"
  fi
  flock -s 9
  have || { echo "compare.sh: $CACHE/$KEY was replaced meanwhile by a run that fetched a newer package: run again" >&2; exit 1; }
fi
echo "crowdsec $(dpkg-deb -f "$CACHE/$KEY/$KEY.deb" Version) from $CACHE/$KEY" >&2

R=$CACHE/$KEY/root
HUB=$R/usr/share/crowdsec/hub
WORK=$(mktemp -d "${TMPDIR:-/tmp}/visor-crowdsec-run.XXXXXX")
E=$WORK/etc
mkdir -p "$E"/parsers/{s00-raw,s01-parse,s02-enrich} "$E/scenarios" "$WORK/data" "$WORK/out"
cp -r "$R"/etc/crowdsec/patterns "$R"/etc/crowdsec/simulation.yaml "$R"/etc/crowdsec/profiles.yaml "$E/"
cp "$R"/usr/share/crowdsec/data/* "$WORK/data/"
# The scenario names its data file http_path_traversal.txt; Debian ships it as path_traversal.txt.
cp "$WORK/data/path_traversal.txt" "$WORK/data/http_path_traversal.txt"
# Debian's hub snapshot has no crowdsecurity/non-syslog (the raw stage for plain files): the same statics.
cat > "$E/parsers/s00-raw/non-syslog.yaml" <<'YAML'
filter: "evt.Line.Labels.type != 'syslog'"
onsuccess: next_stage
name: local/non-syslog
statics:
  - parsed: message
    expression: evt.Line.Raw
  - parsed: program
    expression: evt.Line.Labels.type
YAML
ln -s "$HUB/parsers/s01-parse/crowdsecurity/apache2-logs.yaml" "$E/parsers/s01-parse/"
ln -s "$HUB/parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml" "$HUB/parsers/s02-enrich/crowdsecurity/http-logs.yaml" "$E/parsers/s02-enrich/"
# collections crowdsecurity/apache2 -> base-http-scenarios, plus the Apache CVEs of http-cve. Copied with
# `reprocess: false` (http-probing and http-path-traversal-probing set it): the agent's output routine hands a
# reprocessed overflow back to the parser routines, and in -dsn mode those may already have stopped, so it blocks
# for ever (seen: 2 of 7 parallel replays hung after logging their flag). Reprocessing feeds only scenarios that
# read overflows (ban-defcon-drop_range here), none of which is loaded: what is flagged is the same (checked:
# the 7 files give the same lines with it on, replayed one at a time).
for s in crowdsecurity/{http-crawl-non_statics,http-probing,http-bad-user-agent,http-path-traversal-probing} \
  crowdsecurity/{http-sensitive-files,http-sqli-probing,http-xss-probing,http-backdoors-attempts,http-generic-bf} \
  crowdsecurity/{http-open-proxy,http-cve-2021-41773,http-cve-2021-42013,apache_log4j2_cve-2021-44228} ltsich/http-w00tw00t; do
  sed 's/^reprocess: true$/reprocess: false/' "$HUB/scenarios/$s.yaml" > "$E/scenarios/${s#*/}.yaml"
done
cat > "$E/config.yaml" <<YAML
common: { daemonize: false, log_media: stdout, log_level: info, working_dir: . }
config_paths:
  config_dir: $E/
  data_dir: $WORK/data/
  simulation_path: $E/simulation.yaml
  hub_dir: $HUB/
  index_path: $HUB/.index.json
crowdsec_service: { acquisition_path: $E/acquis.yaml, parser_routines: 1 }
db_config: { type: sqlite, db_path: $WORK/data/crowdsec.db, use_wal: false }
prometheus: { enabled: false }
api:
  client: { credentials_path: $E/local_api_credentials.yaml }
  server: { listen_uri: "127.0.0.1:$PORT", profiles_path: $E/profiles.yaml, trusted_ips: ["127.0.0.1"] }
YAML
: > "$E/acquis.yaml"
CS=$R/usr/bin
"$CS/cscli" -c "$E/config.yaml" machines add visor-compare --auto -f "$E/local_api_credentials.yaml" --url "http://127.0.0.1:$PORT" >/dev/null 2>&1 9>&-
"$CS/crowdsec" -c "$E/config.yaml" -no-cs > "$WORK/lapi.log" 2>&1 9>&- &
LAPI=$!
# `|| true`: errexit holds in traps too, and wait returns the API's 143 (SIGTERM).
trap '{ kill $LAPI && wait $LAPI; } 2>/dev/null || true; rm -rf "$WORK"' EXIT
fail() { echo "compare.sh: $*" >&2; exit 1; }
# The local API says nothing but this log line when it listens: polled, bounded at 10 s.
for _ in $(seq 100); do
  grep -q 'Local API listening' "$WORK/lapi.log" && break
  kill -0 $LAPI 2>/dev/null || fail "the local API exited: $(tail -n3 "$WORK/lapi.log")"
  sleep 0.1
done
grep -q 'Local API listening' "$WORK/lapi.log" || fail "the local API did not listen on 127.0.0.1:$PORT in 10 s: $(tail -n3 "$WORK/lapi.log")"

# crowdsec 1.4.6's replay has shutdown races (seen under load 15-18 from other work on the 2 cores): a pour can
# find its bucket's routine gone, and the agent then spins for ever logging "stuck for Ns sending event to ..."
# (one of 7 replays, 8 minutes before it was stopped). That line ends the attempt (grep -q quits, the agent
# dies of SIGPIPE on its next line) and the file is replayed afresh; 60 s bounds any other hang (a replay takes
# 3-10 s at load 15). At most JOBS replays at once (default: one per core): both hangs first came with all 7 at
# once on the 2 busy cores, none in 8 runs one at a time; one per core still met the stuck race once in 5 runs.
replay() {
  local f=${FILES[$1]} log=$WORK/out/$1.log attempt st
  for attempt in 1 2 3; do
    set +e
    timeout 60 "$CS/crowdsec" -c "$E/config.yaml" -dsn "file://$f" -type apache2 -no-api 2>&1 9>&- | tee "$log" | grep -q -m1 'stuck for'
    st=("${PIPESTATUS[@]}")
    set -e
    if [ "${st[2]}" = 0 ]; then echo "compare.sh: crowdsec stuck sending to a bucket on $f (attempt $attempt)" >&2; continue; fi
    if [ "${st[0]}" = 124 ]; then echo "compare.sh: crowdsec did not end in 60 s on $f (attempt $attempt)" >&2; continue; fi
    return "${st[0]}"
  done
  echo "compare.sh: giving up on $f after 3 attempts" >&2
  return 1
}
JOBS=${JOBS:-$(nproc)}
PIDS=()
for i in "${!FILES[@]}"; do
  while [ "$(jobs -rp | wc -l)" -gt "$JOBS" ]; do wait -n || true; done   # the local API is one of the jobs
  { if replay "$i"; then echo 0; else echo 1; fi > "$WORK/out/$i.rc"; } &
  PIDS+=($!)
done
wait "${PIDS[@]}"
for i in "${!FILES[@]}"; do
  f=${FILES[$i]}
  [ "$(cat "$WORK/out/$i.rc")" = 0 ] || fail "crowdsec failed on $f: $(grep -m1 'level=fatal' "$WORK/out/$i.log" || tail -n1 "$WORK/out/$i.log")"
  # A file it did not read would flag nobody, like a clean one: its own log line says it was read.
  grep -qF "reading $f at once" "$WORK/out/$i.log" || fail "crowdsec did not read $f: $(tail -n1 "$WORK/out/$i.log")"
  label="$(basename "$(dirname "$f")")/$(basename "$f")"
  echo "# $label $f"
  sed -n "s/.*Ip \([^ ]*\) performed '\([^']*\)' (\([0-9]*\) events.*/\1 \2 \3/p" "$WORK/out/$i.log" | sort | sed "s|^|$label |"
done
