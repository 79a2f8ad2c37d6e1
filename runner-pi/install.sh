#!/usr/bin/env bash
# Turns a Raspberry Pi with a 64-bit OS into a Bramble model host and a self-hosted GitHub Actions runner (or, with
# --gitlab URL, a GitLab runner with a shell executor).
# Step by step, with the why: docs/runner-pi.md. `install.sh --help` lists the options.
#
# Idempotent: every step first looks at what is there and reports created / updated / fixed / unchanged / exists,
# so running it again after an upgrade of the checkout only redoes what changed. Configuration that people edit
# (/etc/bramble/serve.json, /etc/bramble/serve.env, the nginx site) is written only when it is absent.
set -euo pipefail

# The GitHub Actions runner. It updates itself once registered, so this pin only matters for the first install.
# The checksums are the SHA-256 sums published in the release notes of actions/runner v2.336.0; a new version
# needs both new sums from its release notes.
readonly RUNNER_VERSION=2.336.0
readonly RUNNER_SHA256_ARM64=58b758e420b87093fbd4bfddd368074960053e2f1388f01848c82624b90f27d1
readonly RUNNER_SHA256_X64=04cf0be1aff4c3ec3554466c39124ca250e3effd8873bb7e8d68535aa9505d5d

# The GitLab runner (--gitlab). GitLab publishes no checksum to copy here: every release has release.sha256, the
# sha256 of each of its files, and release.sha256.asc, that list signed with GitLab Runner's package signing key.
# So the pin is the version and the key: the binary must be listed, with its sum, in a list the key signed.
# - The version: the tag v19.3.0 of gitlab-org/gitlab-runner (commit 9cbf0074ddb0e2f79d79f44406cafebf09117b64,
#   2026-08-19); its .gitlab/ci/postrelease.gitlab-ci.yml publishes the release under
#   https://gitlab-runner-downloads.s3.amazonaws.com/v19.3.0/ with release.sha256 and release.sha256.asc, and its
#   Makefile.build.mk builds gitlab-runner-linux-arm64 and -amd64.
# - The key: gitlab-runner-signing-key.asc beside this script is docs/install/gpg-keys/49F16C5CC3A0F81F.pub.gpg of
#   that tag, unchanged (sha256 ea7c55aa780e6eba63c79c00ba64906d4224b047e86a80d8b63faf9f5e93016a; primary key
#   931D A69C FA3A FEBB C97D AA8C 6C57 C29C 6BA7 5A4E, expires 2027-02-26). The same fingerprint is in the "Current
#   GPG public key" table of docs/install/linux-repository.md there, which says this key signs the release.sha256
#   files, and in GitLab's issue tracker (gitlab-org/gitlab-runner#37405, dnf importing it from packages.gitlab.com).
# The signature must come from that fingerprint (gitlab-runner-verify.sh reads gpgv's VALIDSIG), so a replaced key
# file verifies nothing. A new version needs only a new GITLAB_RUNNER_VERSION; a new key, the file and fingerprint.
readonly GITLAB_RUNNER_VERSION=19.3.0
readonly GITLAB_RUNNER_KEY_FPR=931DA69CFA3AFEBBC97DAA8C6C57C29C6BA75A4E
readonly GITLAB_RUNNER_URL=https://gitlab-runner-downloads.s3.amazonaws.com/v$GITLAB_RUNNER_VERSION
readonly GITLAB_RUNNER_BIN=/usr/local/bin/gitlab-runner
readonly GITLAB_RUNNER_CONFIG=/etc/gitlab-runner/config.toml
readonly GITLAB_RUNNER_UNIT=/etc/systemd/system/gitlab-runner.service

readonly SERVICE_USER=bramble
readonly RUNNER_USER=bramble-runner
readonly APP_DIR=/opt/bramble
readonly CONF_DIR=/etc/bramble
readonly STATE_DIR=/var/lib/bramble
readonly LOG_DIR=/var/log/bramble
readonly RUNNER_DIR=/opt/actions-runner
readonly RUNNER_HOME=/home/bramble-runner
readonly UNIT_NAME=bramble-serve.service
readonly UNIT_PATH=/etc/systemd/system/bramble-serve.service
readonly NGINX_SITE=/etc/nginx/sites-available/bramble
readonly GITLAB_RUNNER_STAMP=/opt/bramble/.gitlab-runner-version
readonly GITLAB_RUNNER_DOWNLOAD=/opt/bramble/.gitlab-runner-download
# What a Bramble checkout needs to build dist/; dist/cli.js reads package.json beside it at run time.
readonly SOURCE_PATHS=(package.json package-lock.json tsconfig.json src schemas scripts templates)
readonly MIN_NODE_MAJOR=20 MIN_NODE_MINOR=19

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE

usage() {
  cat <<'EOF'
Usage: sudo [RUNNER_TOKEN=...] runner-pi/install.sh [options]

Turns a Raspberry Pi (64-bit Raspberry Pi OS) into a Bramble model host (bramble-serve.service) and a
self-hosted GitHub Actions runner with the label `bramble`, or with --gitlab a GitLab runner with a shell
executor. Safe to run again: it only changes what differs.

Options:
  --repo OWNER/REPO    register the runner for this repository
  --org ORG            register the runner for this organisation instead
  --gitlab URL         register a GitLab runner with this GitLab instance (https://gitlab.com) instead
  --runner-name NAME   the runner's name (default: this machine's hostname)
  --labels A,B         extra runner labels; `bramble` is always one of them (GitHub only: a GitLab runner's
                       tags are set where it is created)
  --no-runner          model host only: no runner
  --from DIR           the Bramble checkout to build and install into /opt/bramble (default: the checkout
                       this script is in)
  --dry-run            change nothing on this system: write the files under --root DIR instead of /, and
                       print each command as `would run: ...`
  --root DIR           where a dry run writes (required with --dry-run, and only allowed with it)
  --allow-non-pi       also install on x86_64 (for testing and CI)
  -h, --help           this text

Environment:
  RUNNER_TOKEN         the runner's registration token (Settings -> Actions -> Runners -> New self-hosted
                       runner, or `gh api -X POST repos/OWNER/REPO/actions/runners/registration-token`).
                       With --gitlab: the runner authentication token glrt-... (Settings -> CI/CD -> Runners ->
                       New project runner, tag `bramble`); it reaches gitlab-runner in its environment, never
                       on a command line. Needed only until the runner is registered; never put it in a file
                       in a repository.
  BRAMBLE_ARCH         test hook: stands in for `uname -m`
  BRAMBLE_NODE         test hook: the Node.js binary to check (default /usr/bin/node, which the unit runs)

Exit status: 0 done, 1 this machine or environment cannot be set up as asked, 2 wrong options.
EOF
}

die() { # die STATUS LINE [MORE LINES...]
  local status=$1
  printf 'install.sh: %s\n' "$2" >&2
  shift 2
  if (($#)); then printf '  %s\n' "$@" >&2; fi
  exit "$status"
}

# ---------------------------------------------------------------------------------------------------------------
# Options

dry_run=0 root='' repo='' org='' gitlab_url='' runner_name='' extra_labels='' from='' no_runner=0 allow_non_pi=0
while (($#)); do
  case $1 in
    --dry-run) dry_run=1 ;;
    --no-runner) no_runner=1 ;;
    --allow-non-pi) allow_non_pi=1 ;;
    --root | --repo | --org | --gitlab | --runner-name | --labels | --from)
      (($# >= 2)) || die 2 "$1 needs a value (see --help)"
      case $1 in
        --root) root=$2 ;;
        --repo) repo=$2 ;;
        --org) org=$2 ;;
        --gitlab) gitlab_url=$2 ;;
        --runner-name) runner_name=$2 ;;
        --labels) extra_labels=$2 ;;
        --from) from=$2 ;;
      esac
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) die 2 "unknown option '$1' (see --help)" ;;
  esac
  shift
done

# A root other than / with real commands would mix two systems (users created here, files written there).
if ((dry_run)) && [[ -z $root ]]; then die 2 "--dry-run needs --root DIR: the files are written there instead of /"; fi
if ((!dry_run)) && [[ -n $root ]]; then die 2 "--root DIR is only for --dry-run"; fi
if ((dry_run)); then
  mkdir -p -- "$root"
  root=$(cd -- "$root" && pwd)
  [[ $root != / ]] || die 2 "--root must not be / in a dry run"
fi
readonly ROOT=$root DRY_RUN=$dry_run

[[ -z $repo || -z $org ]] || die 2 "give --repo or --org, not both"
[[ -z $gitlab_url || ( -z $repo && -z $org ) ]] || die 2 "--gitlab registers a GitLab runner: give it without --repo and --org"
[[ -z $gitlab_url || $gitlab_url =~ ^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~-]+)*/?$ ]] ||
  die 2 "--gitlab '$gitlab_url' is not the URL of a GitLab instance (like https://gitlab.com or https://gitlab.example.com)"
[[ -z $gitlab_url || -z $extra_labels ]] ||
  die 2 "--labels is for a GitHub runner; a GitLab runner's tags are set where it is created (Settings -> CI/CD -> Runners), and its glrt- token carries them"
[[ -z $repo || $repo =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die 2 "--repo '$repo' is not OWNER/REPO"
[[ -z $org || $org =~ ^[A-Za-z0-9_.-]+$ ]] || die 2 "--org '$org' is not an organisation name"
[[ -z $runner_name || $runner_name =~ ^[A-Za-z0-9_.-]+$ ]] || die 2 "--runner-name '$runner_name' may use letters, digits, '.', '_' and '-' only"
[[ -z $extra_labels || $extra_labels =~ ^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$ ]] ||
  die 2 "--labels '$extra_labels' must be a comma-separated list of letters, digits, '.', '_' and '-'"

# The token stays in this shell: no child process (npm, curl) inherits it. Only config.sh gets it, as an
# argument, the way GitHub's own instructions pass it, and every line printed shows it as ***.
token=${RUNNER_TOKEN:-}
unset RUNNER_TOKEN

# ---------------------------------------------------------------------------------------------------------------
# This machine

arch=${BRAMBLE_ARCH:-$(uname -m)}
case $arch in
  aarch64 | arm64)
    # Raspberry Pi OS (32-bit) boots a 64-bit kernel on a Pi 4 or 5: uname says aarch64, the programs are 32-bit.
    if [[ -z ${BRAMBLE_ARCH:-} && $(getconf LONG_BIT) == 32 ]]; then arch=armv7l; fi
    ;;
esac
case $arch in
  aarch64 | arm64) runner_arch=arm64 runner_sha256=$RUNNER_SHA256_ARM64 gitlab_arch=arm64 ;;
  x86_64 | amd64)
    ((allow_non_pi)) || die 1 "refusing to install on $arch: this is for a Raspberry Pi with a 64-bit OS (aarch64); pass --allow-non-pi to install on $arch anyway (for testing)"
    runner_arch=x64 runner_sha256=$RUNNER_SHA256_X64 gitlab_arch=amd64
    ;;
  armv6l | armv7l | armv8l | armhf | arm)
    die 1 "refusing to install on $arch (32-bit ARM): GitHub's runner has no Node 24 build for 32-bit ARM (armv7l/armv6l)." \
      "Install the 64-bit Raspberry Pi OS (it runs on a Raspberry Pi 3, 4, 5 and Zero 2 W) and run this again."
    ;;
  *) die 1 "refusing to install on $arch: only 64-bit ARM (aarch64) is supported" ;;
esac
readonly RUNNER_ARCH=$runner_arch RUNNER_SHA256=$runner_sha256 GITLAB_ARCH=$gitlab_arch

if ((!DRY_RUN)) && ((EUID != 0)); then die 1 "run it as root: sudo $0 ..."; fi

node_bin=${BRAMBLE_NODE:-/usr/bin/node}
node_help=("Node.js $MIN_NODE_MAJOR.$MIN_NODE_MINOR or newer must be at /usr/bin/node, which bramble-serve.service runs." \
  "Raspberry Pi OS 12 (Debian bookworm) ships Node 18; install Node 24 from NodeSource:" \
  "  curl -fsSL https://deb.nodesource.com/setup_24.x -o nodesource_setup.sh && sudo bash nodesource_setup.sh && sudo apt-get install -y nodejs" \
  "(on Debian 13 trixie, 'sudo apt-get install nodejs npm' is new enough). Then run this again.")
[[ -x $node_bin ]] || die 1 "$node_bin was not found." "${node_help[@]}"
node_version=$("$node_bin" --version)
if [[ ! $node_version =~ ^v([0-9]+)\.([0-9]+)\. ]] ||
  ((BASH_REMATCH[1] < MIN_NODE_MAJOR || (BASH_REMATCH[1] == MIN_NODE_MAJOR && BASH_REMATCH[2] < MIN_NODE_MINOR))); then
  die 1 "$node_bin is Node.js $node_version." "${node_help[@]}"
fi
command -v npm >/dev/null || die 1 "npm was not found; it builds Bramble (Debian: sudo apt-get install npm; NodeSource's nodejs includes it)"

[[ -n $from ]] || from=$(dirname "$HERE")
[[ -d $from ]] || die 2 "--from '$from' is not a folder"
from=$(cd -- "$from" && pwd)
grep -q '"name": *"bramble"' "$from/package.json" 2>/dev/null ||
  die 2 "--from '$from' is not a Bramble checkout (no package.json with \"name\": \"bramble\")"
readonly FROM=$from

# ---------------------------------------------------------------------------------------------------------------
# Reporting and the two ways of changing things (files under ROOT, commands)

changes=0
say() { printf '%s: %s\n' "$1" "$2"; }
changed() { changes=$((changes + 1)); say "$1" "$2"; }

# The arguments as a shell would read them, with the registration token masked, for printing.
shown() {
  local out=() arg
  for arg in "$@"; do
    if [[ -n $token ]]; then arg=${arg//"$token"/***}; fi
    if [[ $arg =~ ^[][A-Za-z0-9_./=:,@%+*-]+$ ]]; then out+=("$arg"); else out+=("'${arg//\'/\'\\\'\'}'"); fi
  done
  printf '%s' "${out[*]}"
}

# run [--in DIR] CMD...: a command that changes the system; in a dry run, only printed.
run() {
  local dir=''
  if [[ $1 == --in ]]; then dir=$2; shift 2; fi
  if ((DRY_RUN)); then
    changed 'would run' "${dir:+cd $dir && }$(shown "$@")"
    return 0
  fi
  changed run "${dir:+cd $dir && }$(shown "$@")"
  if [[ -n $dir ]]; then (cd -- "$dir" && "$@"); else "$@"; fi
}

# run_with_token VAR CMD...: like run, with the token in the command's environment as VAR — never in its arguments,
# which every user of the machine can read in ps — and only in that command's.
run_with_token() {
  local var=$1
  shift
  if ((DRY_RUN)); then
    changed 'would run' "$(shown "$@") (the token in its environment as $var)"
    return 0
  fi
  changed run "$(shown "$@") (the token in its environment as $var)"
  (
    export "$var=$token"
    exec "$@"
  )
}

octal() { printf '%o' "$((8#$1))"; }

# Owner and mode of an existing path. A dry run cannot give files to users that do not exist here: it applies
# the mode only, and the report says which owner a real run gives them.
ensure_attrs() { # PATH MODE OWNER:GROUP
  local target=$ROOT$1 mode owner have_mode have_owner
  mode=$(octal "$2") owner=$3
  have_mode=$(stat -c '%a' -- "$target") have_owner=$(stat -c '%U:%G' -- "$target")
  if ((!DRY_RUN)) && [[ $have_owner != "$owner" ]]; then
    chown -h -- "$owner" "$target"
    changed fixed "$1 owner $have_owner -> $owner"
  fi
  if [[ $have_mode != "$mode" ]]; then
    chmod -- "$mode" "$target"
    changed fixed "$1 mode $have_mode -> $mode"
  fi
}

ensure_dir() { # PATH MODE OWNER:GROUP
  if [[ -d $ROOT$1 ]]; then
    say exists "$1"
    ensure_attrs "$@"
  else
    mkdir -p -- "$ROOT$1"
    ((DRY_RUN)) || chown -- "$3" "$ROOT$1"
    chmod -- "$2" "$ROOT$1"
    changed created "$1 ($3 $(octal "$2"))"
  fi
}

# put_file SRC DEST MODE OWNER:GROUP [keep]. Replaces DEST when it differs, or with `keep` leaves an existing
# DEST alone (configuration people edit). Sets `wrote` to 1 when it wrote.
put_file() {
  local src=$1 dest=$2 mode=$3 owner=$4 policy=${5:-replace} target=$ROOT$2
  wrote=0
  if [[ -e $target ]]; then
    if [[ $policy == keep ]]; then
      say exists "$dest (kept as it is)"
      ensure_attrs "$dest" "$mode" "$owner"
      return 0
    fi
    if cmp -s -- "$src" "$target"; then
      say unchanged "$dest"
      ensure_attrs "$dest" "$mode" "$owner"
      return 0
    fi
  fi
  local verb=created
  [[ -e $target ]] && verb=updated
  mkdir -p -- "$(dirname -- "$target")"
  # Written beside and renamed over, so a reader (systemd, logrotate, nginx) never sees half a file.
  (umask 077 && cp -- "$src" "$target.new")
  ((DRY_RUN)) || chown -- "$owner" "$target.new"
  chmod -- "$mode" "$target.new"
  mv -f -- "$target.new" "$target"
  wrote=1
  changed "$verb" "$dest ($owner $(octal "$mode"))"
}

tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# ---------------------------------------------------------------------------------------------------------------
# Accounts

user_exists() {
  if ((DRY_RUN)); then grep -q "^$1:" "$ROOT/etc/passwd" 2>/dev/null; else getent passwd "$1" >/dev/null; fi
}
group_exists() {
  if ((DRY_RUN)); then grep -q "^$1:" "$ROOT/etc/group" 2>/dev/null; else getent group "$1" >/dev/null; fi
}
in_group() { # USER GROUP
  if ((DRY_RUN)); then
    awk -F: -v g="$2" -v u="$1" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) found = 1 } END { exit !found }' "$ROOT/etc/group" 2>/dev/null
  else
    id -nG -- "$1" | tr ' ' '\n' | grep -qx -- "$2"
  fi
}

# A dry run cannot create users, but the second run must see the ones the first would have made: it records
# them in ROOT/etc/passwd and ROOT/etc/group, as useradd would in /etc.
record_account() { # NAME HOME SHELL COMMENT
  mkdir -p -- "$ROOT/etc"
  touch -- "$ROOT/etc/passwd" "$ROOT/etc/group"
  local id=$((999 - $(wc -l <"$ROOT/etc/passwd"))) gid
  gid=$(awk -F: -v g="$1" '$1 == g { print $3 }' "$ROOT/etc/group")
  if [[ -z $gid ]]; then
    gid=$id
    printf '%s:x:%d:\n' "$1" "$gid" >>"$ROOT/etc/group"
  fi
  printf '%s:x:%d:%d:%s:%s:%s\n' "$1" "$id" "$gid" "$4" "$2" "$3" >>"$ROOT/etc/passwd"
}
record_member() { # USER GROUP
  sed -i -E "s/^($2:[^:]*:[^:]*:)(.+)\$/\\1\\2,$1/; s/^($2:[^:]*:[^:]*:)\$/\\1$1/" "$ROOT/etc/group"
}

ensure_user() { # NAME HOME COMMENT
  if user_exists "$1"; then
    say exists "user $1"
    return 0
  fi
  # A group of the same name left behind by an earlier install becomes the user's group (--user-group would fail).
  local group=(--user-group)
  if group_exists "$1"; then group=(--gid "$1"); fi
  run useradd --system "${group[@]}" --home-dir "$2" --no-create-home --shell /usr/sbin/nologin --comment "$3" "$1"
  if ((DRY_RUN)); then record_account "$1" "$2" /usr/sbin/nologin "$3"; fi
}

ensure_member() { # USER GROUP
  if in_group "$1" "$2"; then
    say exists "$1 in group $2"
    return 0
  fi
  run usermod --append --groups "$2" "$1"
  if ((DRY_RUN)); then record_member "$1" "$2"; fi
}

# ---------------------------------------------------------------------------------------------------------------
# The runner: what it needs is checked before anything changes

runner_registered=0
if ((!no_runner)) && [[ -n $gitlab_url ]]; then
  # gitlab-runner register appends a [[runners]] section to its configuration.
  if grep -qs '^\[\[runners\]\]' "$ROOT$GITLAB_RUNNER_CONFIG"; then runner_registered=1; fi
elif ((!no_runner)) && [[ -e $ROOT$RUNNER_DIR/.runner ]]; then runner_registered=1; fi
if ((!no_runner && !runner_registered)) && [[ -n $gitlab_url ]]; then
  [[ -n $token ]] || die 1 "RUNNER_TOKEN is not set. The GitLab runner's token comes from the environment, never from a file:" \
    "create the runner in the project (Settings -> CI/CD -> Runners -> New project runner, tag bramble) and copy its glrt- token," \
    "then run: read -rs RUNNER_TOKEN && export RUNNER_TOKEN && sudo --preserve-env=RUNNER_TOKEN $0 --gitlab $gitlab_url"
  [[ $token == glrt-* ]] || die 2 "RUNNER_TOKEN is not a runner authentication token (glrt-...): registration tokens are off by default since GitLab 17.0;" \
    "create the runner in the project (Settings -> CI/CD -> Runners -> New project runner) and use the glrt- token it shows"
elif ((!no_runner && !runner_registered)); then
  [[ -n $token ]] || die 1 "RUNNER_TOKEN is not set. The runner's registration token comes from the environment, never from a file:" \
    "get one under the repository's Settings -> Actions -> Runners -> New self-hosted runner," \
    "or with: gh api -X POST repos/OWNER/REPO/actions/runners/registration-token --jq .token" \
    "then run: sudo RUNNER_TOKEN=... $0 --repo OWNER/REPO (or pass --no-runner for a model host only)."
  [[ -n $repo || -n $org ]] || die 2 "the runner needs --repo OWNER/REPO or --org ORG (or pass --no-runner for a model host only)"
fi

if ((DRY_RUN)); then say note "dry run: files go under $ROOT, commands are only printed"; fi

# ---------------------------------------------------------------------------------------------------------------
# The model host

ensure_user "$SERVICE_USER" "$STATE_DIR" "Bramble model server"

ensure_dir "$CONF_DIR" 0755 root:root
ensure_dir "$STATE_DIR" 0750 "$SERVICE_USER:$SERVICE_USER"
ensure_dir "$LOG_DIR" 2750 "$SERVICE_USER:$SERVICE_USER"

put_file "$HERE/serve.json" "$CONF_DIR/serve.json" 0644 root:root keep

# What the rest needs from the installed serve.json, which may have been edited: its folders, its environments
# and the variables that hold their tokens.
"$node_bin" -e '
  let c;
  try {
    c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
  console.log("models\t" + (c.models ?? ""));
  console.log("log\t" + (c.log?.dir ?? "/var/log/bramble/predictions"));
  for (const [env, e] of Object.entries(c.environments ?? {})) {
    console.log("env\t" + env);
    if (e?.tokenEnv) console.log("token\t" + e.tokenEnv);
  }
  if (c.git?.tokenEnv) console.log("gittoken\t" + c.git.tokenEnv);
' "$ROOT$CONF_DIR/serve.json" >"$tmp/serve.tsv" 2>"$tmp/serve.err" ||
  die 2 "$CONF_DIR/serve.json cannot be read: $(head -n 1 "$tmp/serve.err")"
models_dir='' prediction_dir='' envs=() token_vars=() git_token_var=''
while IFS=$'\t' read -r kind value; do
  case $kind in
    models) models_dir=$value ;;
    log) prediction_dir=$value ;;
    env)
      [[ $value =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] || die 2 "$CONF_DIR/serve.json: environment name '$value' is not a folder name"
      envs+=("$value")
      ;;
    token)
      [[ $value =~ ^[A-Z_][A-Z0-9_]*$ ]] || die 2 "$CONF_DIR/serve.json: tokenEnv '$value' is not a variable name"
      token_vars+=("$value")
      ;;
    gittoken)
      [[ $value =~ ^[A-Z_][A-Z0-9_]*$ ]] || die 2 "$CONF_DIR/serve.json: git.tokenEnv '$value' is not a variable name"
      git_token_var=$value
      ;;
  esac
done <"$tmp/serve.tsv"
[[ $models_dir == /* ]] || die 2 "$CONF_DIR/serve.json: \"models\" must be an absolute path (got '$models_dir')"
[[ $prediction_dir == /* ]] || die 2 "$CONF_DIR/serve.json: \"log.dir\" must be an absolute path (got '$prediction_dir')"

# The tokens. The server refuses to start while an environment's tokenEnv is unset, so a new serve.env gets a
# random token for each; they are never printed (read them with: sudo cat /etc/bramble/serve.env). The admin
# token stays unset: then the server takes deploys from this machine only, which is where the runner deploys from.
{
  printf '%s\n' \
    "# Tokens for bramble-serve, named in $CONF_DIR/serve.json (adminTokenEnv, environments.*.tokenEnv): NAME=value." \
    '# systemd reads this file as root before the server starts; keep it root-owned, mode 0600. Restart after an edit:' \
    '#   sudo systemctl restart bramble-serve' \
    '# BRAMBLE_ADMIN_TOKEN unset: admin calls (POST /admin/sync, a nudge to pull from git now) are accepted from this machine only.'
  for var in "${token_vars[@]}"; do
    printf '%s=%s\n' "$var" "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
  done
  if [[ -n $git_token_var ]]; then
    printf '%s\n' "# $git_token_var: a read-only token for the model repository the server pulls from (GitHub: a fine-grained" \
      '# token with Contents: read); leave it empty for a public repository.' "$git_token_var="
  fi
} >"$tmp/serve.env"
put_file "$tmp/serve.env" "$CONF_DIR/serve.env" 0600 root:root keep
for var in "${token_vars[@]}"; do
  grep -q "^$var=." "$ROOT$CONF_DIR/serve.env" ||
    say note "$CONF_DIR/serve.json names the token variable $var, which $CONF_DIR/serve.env does not set: the server will not start until it does"
done

for dir in "$models_dir" "$prediction_dir"; do
  case $dir/ in
    "$STATE_DIR"/* | "$LOG_DIR"/*) ;;
    *) say note "$dir is outside $STATE_DIR and $LOG_DIR, the only folders the unit may write: add it with 'systemctl edit bramble-serve' ([Service] ReadWritePaths=$dir)" ;;
  esac
done
# The model store belongs to the server alone: it pulls what to serve from git (serve.json's git block), so no
# one else — the runner user least of all, which runs pull requests' steps — may write a model into it.
ensure_dir "$models_dir" 0700 "$SERVICE_USER:$SERVICE_USER"
for env in "${envs[@]}"; do ensure_dir "$models_dir/$env" 0700 "$SERVICE_USER:$SERVICE_USER"; done
# Monitoring jobs on the runner read the prediction log (group), nobody else does: it holds every input.
ensure_dir "$prediction_dir" 2750 "$SERVICE_USER:$SERVICE_USER"

# Bramble itself: the checkout's sources, built in /opt/bramble. The fingerprint of those sources decides whether
# there is anything to do.
present=()
for path in "${SOURCE_PATHS[@]}"; do [[ -e $FROM/$path ]] && present+=("$path"); done
fingerprint=$(tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$FROM" -cf - -- "${present[@]}" | sha256sum | cut -d' ' -f1)
stamp=$ROOT$APP_DIR/.bramble-source.sha256
ensure_dir "$APP_DIR" 0755 root:root
app_changed=0
if [[ -f $stamp && $(<"$stamp") == "$fingerprint" ]] && { ((DRY_RUN)) || [[ -f $ROOT$APP_DIR/dist/cli.js ]]; }; then
  say unchanged "$APP_DIR (Bramble from $FROM, sources sha256 ${fingerprint:0:12})"
else
  app_changed=1
  rm -f -- "$stamp"
  for path in "${SOURCE_PATHS[@]}"; do rm -rf -- "$ROOT${APP_DIR:?}/${path:?}"; done
  tar -C "$FROM" -cf - -- "${present[@]}" | tar -C "$ROOT$APP_DIR" -xf - --no-same-owner
  changed copied "$FROM -> $APP_DIR (${present[*]})"
  # --ignore-scripts: these run as root, and no dependency needs its install script (esbuild finds its binary
  # in its platform package). The build needs the dev dependencies; prune drops them afterwards.
  run --in "$APP_DIR" npm ci --ignore-scripts --no-audit --no-fund
  run --in "$APP_DIR" npm run build
  run --in "$APP_DIR" npm prune --omit=dev --ignore-scripts --no-audit --no-fund
  printf '%s\n' "$fingerprint" >"$stamp"
  changed created "$APP_DIR/.bramble-source.sha256 (sources sha256 ${fingerprint:0:12})"
fi
cat >"$tmp/bramble" <<EOF
#!/bin/sh
# The bramble command, installed by runner-pi/install.sh.
exec /usr/bin/node $APP_DIR/dist/cli.js "\$@"
EOF
put_file "$tmp/bramble" /usr/local/bin/bramble 0755 root:root

put_file "$HERE/bramble-serve.service" "$UNIT_PATH" 0644 root:root
unit_changed=$wrote
put_file "$HERE/logrotate.conf" /etc/logrotate.d/bramble 0644 root:root
put_file "$HERE/nginx/bramble.conf" "$NGINX_SITE" 0644 root:root keep

if ((unit_changed)); then run systemctl daemon-reload; fi
enabled=0
if ((DRY_RUN)); then
  [[ -L $ROOT/etc/systemd/system/multi-user.target.wants/$UNIT_NAME ]] && enabled=1
else
  systemctl is-enabled --quiet "$UNIT_NAME" && enabled=1
fi
if ((!enabled)); then
  run systemctl enable --now "$UNIT_NAME"
  # systemd's offline mode does the file work of `enable` under ROOT, so the next dry run sees it enabled.
  if ((DRY_RUN)); then systemctl --root="$ROOT" --quiet enable "$UNIT_NAME" 2>/dev/null; fi
elif ((unit_changed || app_changed)); then
  run systemctl restart "$UNIT_NAME"
elif ((!DRY_RUN)) && ! systemctl is-active --quiet "$UNIT_NAME"; then
  run systemctl start "$UNIT_NAME"
else
  say unchanged "$UNIT_NAME (enabled)"
fi

# ---------------------------------------------------------------------------------------------------------------
# The GitLab runner (--gitlab)

install_gitlab_runner() {
  local name=gitlab-runner-linux-$GITLAB_ARCH dl=$GITLAB_RUNNER_DOWNLOAD
  if [[ -e $ROOT$GITLAB_RUNNER_BIN && -f $ROOT$GITLAB_RUNNER_STAMP && $(<"$ROOT$GITLAB_RUNNER_STAMP") == "$GITLAB_RUNNER_VERSION" ]]; then
    say unchanged "$GITLAB_RUNNER_BIN (gitlab-runner $GITLAB_RUNNER_VERSION)"
    return 0
  fi
  ((DRY_RUN)) || { rm -rf -- "$dl" && mkdir -m 0700 -- "$dl"; }
  run curl -fsSL --retry 3 -o "$dl/$name" "$GITLAB_RUNNER_URL/binaries/$name"
  run curl -fsSL --retry 3 -o "$dl/release.sha256" "$GITLAB_RUNNER_URL/release.sha256"
  run curl -fsSL --retry 3 -o "$dl/release.sha256.asc" "$GITLAB_RUNNER_URL/release.sha256.asc"
  if ((DRY_RUN)); then
    changed 'would check' "release.sha256.asc signs release.sha256 with the key $GITLAB_RUNNER_KEY_FPR, and release.sha256 lists the sha256 of binaries/$name"
  else
    if ! "$HERE/gitlab-runner-verify.sh" "$HERE/gitlab-runner-signing-key.asc" "$GITLAB_RUNNER_KEY_FPR" \
      "$dl/release.sha256" "$dl/release.sha256.asc" "$dl/$name" "binaries/$name" 2>"$tmp/verify.err"; then
      rm -rf -- "$dl"
      die 1 "gitlab-runner $GITLAB_RUNNER_VERSION did not verify, so it was not installed (the download is removed):" "$(<"$tmp/verify.err")"
    fi
    say checked "$name: listed with its sha256 in release.sha256, signed by $GITLAB_RUNNER_KEY_FPR"
  fi
  run install -m 0755 -o root -g root "$dl/$name" "$GITLAB_RUNNER_BIN"
  run rm -rf "$dl"
  mkdir -p -- "$(dirname -- "$ROOT$GITLAB_RUNNER_STAMP")"
  printf '%s\n' "$GITLAB_RUNNER_VERSION" >"$ROOT$GITLAB_RUNNER_STAMP"
  changed created "$GITLAB_RUNNER_STAMP (gitlab-runner $GITLAB_RUNNER_VERSION)"
  # A running service keeps the old binary until it restarts.
  if [[ -e $ROOT$GITLAB_RUNNER_UNIT ]]; then run systemctl restart gitlab-runner.service; fi
}

if ((!no_runner)) && [[ -n $gitlab_url ]]; then
  # The same user as a GitHub runner's, without sudo; jobs run as it (gitlab-runner runs them with su -s /bin/bash),
  # in the group bramble to read the prediction log.
  ensure_user "$RUNNER_USER" "$RUNNER_HOME" "GitLab runner"
  ensure_member "$RUNNER_USER" "$SERVICE_USER"
  ensure_dir "$RUNNER_HOME" 0750 "$RUNNER_USER:$RUNNER_USER"
  install_gitlab_runner

  if [[ -e $ROOT$GITLAB_RUNNER_UNIT ]]; then
    say exists "$GITLAB_RUNNER_UNIT"
  else
    run "$GITLAB_RUNNER_BIN" install --user "$RUNNER_USER" --working-directory "$RUNNER_HOME" --config "$GITLAB_RUNNER_CONFIG" --service gitlab-runner
    run systemctl enable --now gitlab-runner.service
  fi

  if ((runner_registered)); then
    say exists "$GITLAB_RUNNER_CONFIG (registered; to register again: sudo gitlab-runner unregister --all-runners, then run this with a new RUNNER_TOKEN)"
  else
    # Tags, protection and the like come with the glrt- token (set where the runner was created); --tag-list would be refused.
    run_with_token CI_SERVER_TOKEN "$GITLAB_RUNNER_BIN" register --non-interactive --url "$gitlab_url" --executor shell \
      --name "${runner_name:-$(uname -n)}" --config "$GITLAB_RUNNER_CONFIG"
  fi
fi

# ---------------------------------------------------------------------------------------------------------------
# The GitHub Actions runner

if ((!no_runner)) && [[ -z $gitlab_url ]]; then
  # Its own user, without sudo: jobs run as this user. It joins the group `bramble` to deploy models and read the
  # prediction log.
  ensure_user "$RUNNER_USER" "$RUNNER_HOME" "GitHub Actions runner"
  ensure_member "$RUNNER_USER" "$SERVICE_USER"
  ensure_dir "$RUNNER_HOME" 0750 "$RUNNER_USER:$RUNNER_USER"
  ensure_dir "$RUNNER_DIR" 0750 "$RUNNER_USER:$RUNNER_USER"

  if [[ -e $ROOT$RUNNER_DIR/config.sh ]]; then
    say exists "$RUNNER_DIR/config.sh (the runner updates itself)"
  else
    tarball=actions-runner-linux-$RUNNER_ARCH-$RUNNER_VERSION.tar.gz
    run curl -fsSL --retry 3 -o "$RUNNER_DIR/$tarball" "https://github.com/actions/runner/releases/download/v$RUNNER_VERSION/$tarball"
    if ((DRY_RUN)); then
      changed 'would check' "sha256 of $RUNNER_DIR/$tarball is $RUNNER_SHA256"
    else
      sum=$(sha256sum "$RUNNER_DIR/$tarball" | cut -d' ' -f1)
      if [[ $sum != "$RUNNER_SHA256" ]]; then
        rm -f -- "$RUNNER_DIR/$tarball"
        die 1 "$tarball has sha256 $sum, expected $RUNNER_SHA256 (from the release notes of actions/runner v$RUNNER_VERSION); removed it"
      fi
      say checked "sha256 of $tarball"
    fi
    # --no-overwrite-dir: the archive's ./ must not change the mode of /opt/actions-runner.
    run runuser -u "$RUNNER_USER" -- tar -xzf "$RUNNER_DIR/$tarball" -C "$RUNNER_DIR" --no-overwrite-dir
    run rm -f "$RUNNER_DIR/$tarball"
    # The runner is a .NET program: this installs the libraries it needs (libicu and the like) with apt.
    run "$RUNNER_DIR/bin/installdependencies.sh"
  fi

  if ((runner_registered)); then
    say exists "$RUNNER_DIR/.runner (registered; to register again: sudo -u $RUNNER_USER $RUNNER_DIR/config.sh remove, then run this with a new RUNNER_TOKEN)"
  else
    labels=bramble
    IFS=, read -r -a extra <<<"$extra_labels"
    for label in "${extra[@]}"; do [[ $label == bramble ]] || labels+=,$label; done
    url=https://github.com/${repo:-$org}
    run --in "$RUNNER_DIR" runuser -u "$RUNNER_USER" -- ./config.sh --unattended --replace --url "$url" --token "$token" \
      --labels "$labels" --name "${runner_name:-$(uname -n)}" --work _work
  fi

  if [[ -e $ROOT$RUNNER_DIR/.service ]]; then
    runner_unit=$(<"$ROOT$RUNNER_DIR/.service")
    if ((!DRY_RUN)) && ! systemctl is-active --quiet "$runner_unit"; then
      run --in "$RUNNER_DIR" ./svc.sh start
    else
      say exists "runner service $runner_unit"
    fi
  else
    run --in "$RUNNER_DIR" ./svc.sh install "$RUNNER_USER"
    run --in "$RUNNER_DIR" ./svc.sh start
  fi
fi

# ---------------------------------------------------------------------------------------------------------------

if [[ ! -e $ROOT/etc/nginx/sites-enabled/bramble ]]; then
  say note "the nginx site for several Pis is in $NGINX_SITE, not enabled; on the machine in front of the Pis, list them in it, then: ln -s $NGINX_SITE /etc/nginx/sites-enabled/bramble && nginx -t && systemctl reload nginx"
fi
say note "check the server with: systemctl status bramble-serve; curl -s http://127.0.0.1:8080/ping"
if ((changes)); then say 'done' "$changes changes"; else say 'done' "no changes"; fi
