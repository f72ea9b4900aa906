#!/usr/bin/env bash
# `make images`: builds the service images (one per folder under services/) from the one Dockerfile at the repository root.
#   scripts/images.sh               all of them: tasklane-api, tasklane-worker-{reports,notifications,payments},
#                                   tasklane-beat, each tagged <project version> and <git commit>
#   scripts/images.sh api beat      only these services (folder names under services/)
# Environment:
#   IMAGE_BUILDER   buildah (default: rootful, --isolation chroot, no daemon needed) or docker
#   BUILDAH_STORAGE_DRIVER  vfs (default: works on any filesystem, stores every layer in full) or overlay
#   PYTHON_IMAGE    base image. Default with docker: the Dockerfile's python:3.11-slim-bookworm. Default with
#                   buildah: localhost/tasklane-python:3.11, a stand-in for that image built here from
#                   Debian's own python3 when missing (for machines that cannot pull from a registry).
#   CA_BUNDLE       CA bundle the build's downloads trust (buildah; default: the host's bundle). It is
#                   mounted read-only into the build steps and never copied into an image.
#   IMAGE_SOURCE    org.opencontainers.image.source label (default: the URL of the git remote "origin")
#   DEBIAN_MIRROR   mirror for the stand-in base (default http://deb.debian.org/debian)
# Each image replaces the older images of the same name, so repeated builds do not fill the disk (vfs
# stores every layer in full). Prints each image's size, its largest layers and its build time.
set -euo pipefail
cd "$(dirname "$0")/.."

buildah() { command buildah --storage-driver "${BUILDAH_STORAGE_DRIVER:-vfs}" "$@"; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'images: %s\n' "$*" >&2; exit 1; }

scratch=()  # temporary files and folders, removed on exit
trap 'rm -rf "${scratch[@]}"' EXIT
# Every folder under services/ is one image: a new service needs no line here.
ALL_SERVICES=()
for manifest in services/*/pyproject.toml; do ALL_SERVICES+=("$(basename "$(dirname "$manifest")")"); done
STANDIN_BASE=localhost/tasklane-python:3.11
builder="${IMAGE_BUILDER:-buildah}"
services=("$@")
((${#services[@]})) || services=("${ALL_SERVICES[@]}")
for service in "${services[@]}"; do
  [[ -f "services/$service/pyproject.toml" ]] || die "no service '$service' (expected one of: ${ALL_SERVICES[*]})"
done

version=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
revision=$(git rev-parse HEAD)
commit_tag=$(git rev-parse --short=12 HEAD)
# An image built from uncommitted changes must not carry a clean commit's name.
if [[ -n "$(git status --porcelain -- Dockerfile .dockerignore pyproject.toml uv.lock libs services)" ]]; then
  revision+="-dirty"
  commit_tag+="-dirty"
fi
source_url="${IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || echo unknown)}"
ca_bundle="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

case "$builder" in
  buildah)
    scripts/bootstrap.sh images
    ;;
  docker)
    command -v docker >/dev/null || die "IMAGE_BUILDER=docker but docker is not installed"
    docker info >/dev/null 2>&1 || die "IMAGE_BUILDER=docker but no Docker engine answers (docker info failed)"
    ;;
  *) die "IMAGE_BUILDER must be buildah or docker, not '$builder'" ;;
esac

# The stand-in for python:3.11-slim-bookworm: Debian bookworm (minbase) with Debian's python3 (3.11),
# python3-venv, ca-certificates, netbase and tzdata, trimmed as debian:bookworm-slim is (no docs, man
# pages or locales, no apt lists). One layer. Its python is /usr/bin/python3 where the official image
# has /usr/local/bin/python3; both stages of a build use the same base, so the venv's links still hold.
build_standin_base() {
  local work rootfs ctr mnt started=$SECONDS
  work=$(mktemp -d /var/tmp/tasklane-base.XXXXXX)
  rootfs="$work/rootfs"
  scratch+=("$work")
  say "building the stand-in base $STANDIN_BASE (debootstrap bookworm + Debian's python3)"
  debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
  chmod +x "$rootfs/usr/sbin/policy-rc.d"
  chroot "$rootfs" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -ec '
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates netbase tzdata
    apt-get clean' >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; die "installing python3 failed"; }
  rm -f "$rootfs/usr/sbin/policy-rc.d"
  find "$rootfs/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/*
  : >"$rootfs/etc/resolv.conf"
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  cp -a "$rootfs/." "$mnt/"
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
    --cmd python3 --label org.opencontainers.image.title=tasklane-python \
    --label org.opencontainers.image.description="Stand-in for python:3.11-slim-bookworm: Debian bookworm with Debian's python3" \
    "$ctr"
  buildah commit --quiet --rm "$ctr" "$STANDIN_BASE" >/dev/null
  rm -rf "$work"
  say "built $STANDIN_BASE in $((SECONDS - started))s"
}

# Byte sizes for the report.
human() { numfmt --to=si --suffix=B --format='%.1f' "$1"; }

# Prints the image's total size and its three largest layers (uncompressed).
report_layers() {
  local image=$1
  if [[ "$builder" == docker ]]; then
    printf '  size %s uncompressed; largest layers:\n' "$(human "$(docker image inspect --format '{{.Size}}' "$image")")"
    docker history --human=false --format '{{.Size}}\t{{.CreatedBy}}' "$image" | sort -rn | head -n 3 |
      while IFS=$'\t' read -r size created_by; do
        printf '  %10s  %.90s\n' "$(human "$size")" "$created_by"
      done
    return
  fi
  buildah inspect --type image "$image" | python3 scripts/image_layers.py
}

build_one() {
  local service=$1 name="tasklane-$1" started=$SECONDS previous
  mapfile -t previous < <(image_ids "$name")
  local args=(
    --file Dockerfile
    --build-arg "SERVICE=$service"
    --build-arg "VERSION=$version"
    --build-arg "REVISION=$revision"
    --build-arg "SOURCE_URL=$source_url"
    --tag "$name:$version"
    --tag "$name:$commit_tag"
  )
  [[ -n "${PYTHON_IMAGE:-}" ]] && args+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
  say "building $name ($version, $commit_tag)"
  if [[ "$builder" == docker ]]; then
    DOCKER_BUILDKIT=1 docker build "${args[@]}" .
  else
    # The host's CA bundle is mounted read-only over the base's bundle in every build step, which is where
    # the Dockerfile points downloads; mounted over an existing file, it leaves nothing behind in a layer.
    buildah build --isolation chroot --layers=false --force-rm \
      --volume "$ca_bundle:/etc/ssl/certs/ca-certificates.crt:ro" \
      "${args[@]}" . >"$build_log" 2>&1 || { tail -n 40 "$build_log" >&2; die "building $name failed"; }
  fi
  built_seconds[$service]=$((SECONDS - started))
  remove_older "$name" "${previous[@]}"
}

# IDs of the images that now carry this name (a rebuild moves the tags and leaves the old image unnamed).
image_ids() {
  if [[ "$builder" == docker ]]; then
    docker images --no-trunc --quiet "$1" | sort -u
  else
    buildah images --no-trunc --quiet --filter "reference=localhost/$1" | sed 's/^sha256://' | sort -u
  fi
}

# Removes the images that had this name before, once the new one is built (vfs keeps each layer in full).
remove_older() {
  local name=$1 current id older=()
  shift
  if [[ "$builder" == docker ]]; then
    current=$(docker image inspect --format '{{.Id}}' "$name:$version")
  else
    current=$(buildah inspect --type image --format '{{.FromImageID}}' "$name:$version")
  fi
  for id in "$@"; do
    [[ "${id#sha256:}" == "${current#sha256:}" ]] || older+=("$id")
  done
  ((${#older[@]} == 0)) || "$builder" rmi --force "${older[@]}" >/dev/null
}

total_started=$SECONDS
if [[ "$builder" == buildah && -z "${PYTHON_IMAGE:-}" ]]; then
  buildah inspect --type image "$STANDIN_BASE" >/dev/null 2>&1 || build_standin_base
  PYTHON_IMAGE=$STANDIN_BASE
fi

declare -A built_seconds=()
build_log=$(mktemp /tmp/tasklane-image-build.XXXXXX.log)
scratch+=("$build_log")
for service in "${services[@]}"; do
  build_one "$service"
done

say "built ${#services[@]} image(s) in $((SECONDS - total_started))s (base: ${PYTHON_IMAGE:-python:3.11-slim-bookworm})"
for service in "${services[@]}"; do
  printf '\n%s:%s, %s  built in %ss\n' "tasklane-$service" "$version" "$commit_tag" "${built_seconds[$service]}"
  report_layers "tasklane-$service:$version"
done
