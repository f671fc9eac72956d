#!/usr/bin/env bash
# tests/debootstrap.sh - README's first two commands on a fresh Debian 12, as root and as a
# user with sudo.
#
# Makes a minimal Debian 12 root filesystem with debootstrap and leaves it as a fresh image
# is: empty package lists, no package cache. Then, in a copy of it without sudo, as root, and
# in a copy with sudo, as an ordinary user allowed to use it, it copies the repository (the
# files git tracks or would track, as they are in the work tree) and runs in a chroot, exactly
# as README.md's "On a fresh Debian machine" gives them: the first command (it must build and
# run the demo to its last line) and the second (the tests; Check's summary must report no
# failure). Needs root, about 2 GB under /var/tmp and a Debian mirror (Debian):
#   apt-get install debootstrap
#
#   tests/debootstrap.sh [root] [sudo]   the runs (default both)
#
# DEBIAN_MIRROR (default http://deb.debian.org/debian) and DEBIAN_SECURITY_MIRROR (default
# http://deb.debian.org/debian-security) choose the mirrors; LEARN_KEEP_ROOT=1 keeps the
# root filesystems (their path is printed). Prints how long each step took.
set -euo pipefail
cd "$(dirname "$0")/.."

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
die() { echo "debootstrap.sh: $*" >&2; exit 1; }

runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(root sudo)
for r in "${runs[@]}"; do
    case "$r" in root | sudo) ;; *) die "unknown run '$r' (root, sudo)" ;; esac
done
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
command -v git >/dev/null || die "git not found: it lists the repository's files"

# README's commands: the first two indented lines of its "On a fresh Debian machine" section.
mapfile -t cmds < <(awk '/^## /{s = ($0 == "## On a fresh Debian machine")} s && /^    [^ ]/{sub(/^    /, ""); print}' README.md | head -n 2)
[ ${#cmds[@]} = 2 ] || die "README.md: no two commands under '## On a fresh Debian machine'"
echo "first command:  ${cmds[0]}"
echo "second command: ${cmds[1]}"

W=$(mktemp -d /var/tmp/learn-debootstrap.XXXXXX)
mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -R "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true; done
    if [ "${LEARN_KEEP_ROOT:-0}" = 1 ]; then
        echo "debootstrap.sh: root filesystems kept in $W"
    else
        rm -rf "$W"
    fi
}
trap cleanup EXIT

t_start=$(date +%s)
step_t=$t_start
step() {
    local now
    now=$(date +%s)
    [ -z "${step_name:-}" ] || printf '   %s: %d s\n' "$step_name" $((now - step_t))
    step_t=$now
    step_name=$1
    [ -z "$1" ] || echo "== $1"
}

step "debootstrap bookworm (minbase, with sudo) from $MIRROR"
debootstrap --variant=minbase --include=sudo bookworm "$W/base" "$MIRROR" >"$W/debootstrap.log" 2>&1 ||
    { tail -n 20 "$W/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
# As a fresh image is: the sources of an installed system, no package lists, no cache.
cat >"$W/base/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
EOF
find "$W/base/var/lib/apt/lists" -maxdepth 1 -type f -delete
rm -f "$W/base/var/cache/apt/"*.bin "$W/base/var/cache/apt/archives/"*.deb
printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$(hostname)" >"$W/base/etc/hosts"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c '[ -e "$1" ] && printf "%s\0" "$1"' _ {} >"$W/files"
echo "   $(tr -cd '\0' <"$W/files" | wc -c) repository files"

# in_root R USER CMD: runs CMD with bash in the chroot R, as USER, in USER's copy of the
# repository, with a clean environment; the output goes to $W/R-N.log.
n_cmd=0
in_root() {
    local r=$1 user=$2 cmd=$3 home
    n_cmd=$((n_cmd + 1))
    home=/root
    [ "$user" = root ] || home=/home/$user
    local log="$W/$(basename "$r")-$n_cmd.log"
    set +e
    chroot --userspec="$user:$user" "$r" /usr/bin/env -i HOME="$home" USER="$user" LOGNAME="$user" \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb LANG=C.UTF-8 \
        /bin/bash -c "cd ~/learn && $cmd" >"$log" 2>&1
    local rc=$?
    set -e
    LAST_LOG=$log
    return $rc
}

# run NAME USER: a fresh root R from base; the repository in USER's home; both commands.
run() {
    local name=$1 user=$2 r="$W/$1" home
    step "$name: a fresh root filesystem"
    if [ "$name" = "${runs[${#runs[@]} - 1]}" ]; then
        mv "$W/base" "$r"
    else
        cp -a "$W/base" "$r"
    fi
    if [ "$user" = root ]; then
        chroot "$r" env SUDO_FORCE_REMOVE=yes dpkg --purge sudo >"$W/purge.log" 2>&1 ||
            { cat "$W/purge.log" >&2; die "$name: dpkg --purge sudo failed"; }
        ! chroot "$r" sh -c 'command -v sudo' >/dev/null || die "$name: sudo is still there"
        home=/root
    else
        chroot "$r" useradd -m -s /bin/bash "$user"
        echo "$user ALL=(ALL) NOPASSWD:ALL" >"$r/etc/sudoers.d/$user"
        chmod 0440 "$r/etc/sudoers.d/$user"
        home=/home/$user
    fi
    mkdir -p "$r$home/learn"
    tar --null -T "$W/files" -cf - | tar -xf - -C "$r$home/learn"
    chroot "$r" chown -R "$user:$user" "$home/learn"
    local m
    for m in proc sys dev; do
        case $m in
        proc) mount -t proc proc "$r/proc" ;;
        sys) mount -t sysfs sysfs "$r/sys" ;;
        dev) mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev" ;;
        esac
        mounted+=("$r/$m")
    done
    step "$name: ${cmds[0]}"
    in_root "$r" "$user" "${cmds[0]}" || { tail -n 40 "$LAST_LOG" >&2; die "$name: the first command failed (log above)"; }
    grep -q '^next: learn-cli --help' "$LAST_LOG" || { tail -n 40 "$LAST_LOG" >&2; die "$name: the demo did not run to its end"; }
    echo "   the demo ran: $(grep -c . "$LAST_LOG") lines"
    step "$name: ${cmds[1]}"
    in_root "$r" "$user" "${cmds[1]}" || { tail -n 60 "$LAST_LOG" >&2; die "$name: the second command failed (log above)"; }
    local summary
    summary=$(tail -n 1 "$LAST_LOG")
    [[ "$summary" =~ ^100%:\ Checks:\ [0-9]+,\ Failures:\ 0,\ Errors:\ 0$ ]] ||
        { tail -n 60 "$LAST_LOG" >&2; die "$name: the tests did not pass: $summary"; }
    echo "   $summary ($(grep -c '^SKIPPED' "$LAST_LOG") skipped, saying why:)"
    sed -n 's/^SKIPPED [^:]*: //p' "$LAST_LOG" | sort | uniq -c | sed 's/^ */   /'
    for ((m = ${#mounted[@]} - 1; m >= 0; m--)); do umount -R "${mounted[m]}"; done
    mounted=()
}

for r in "${runs[@]}"; do
    case "$r" in
    root) run root root ;;
    sudo) run sudo learner ;;
    esac
done
step ""
echo "debootstrap.sh: README's commands work on a fresh Debian 12 (${runs[*]}): $(($(date +%s) - t_start)) s in all"
