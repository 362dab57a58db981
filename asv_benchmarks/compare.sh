#!/usr/bin/env bash
# Compare two commits offline:  ./compare.sh [BASE=HEAD~1] [HEAD=HEAD] [asv run options...]
#
# `asv continuous` needs to build each commit into its own environment, which
# needs the network; with environment_type "existing" (`--python=same`) asv
# refuses a range ("No range spec may be specified if benchmarking in an
# existing environment"). So: check each commit out into a temporary git
# worktree, put it first on the path with ASV_PYTHONPATH (asv turns that into
# PYTHONPATH for the benchmark processes and their timeraw_ children, ahead of
# the editable install), record the results under that commit's hash, and
# let `asv compare` show the ratios. The benchmark suite itself is always the
# one in this directory, so both commits run the same benchmarks.
#
# Example:  ./compare.sh HEAD~1 HEAD -b 'span\.' -a repeat=5
set -euo pipefail
cd "$(dirname "$0")"
base=${1:-HEAD~1}
head=${2:-HEAD}
shift $(( $# < 2 ? $# : 2 ))
worktrees=$(mktemp -d)
cleanup() {
    for tree in "$worktrees"/*; do
        [ -d "$tree" ] && git worktree remove --force "$tree"
    done
    rm -rf "$worktrees"
}
trap cleanup EXIT
for rev in "$base" "$head"; do
    hash=$(git rev-parse --verify "$rev^{commit}")
    git worktree add --detach "$worktrees/$hash" "$hash" >/dev/null
    ASV_PYTHONPATH="$worktrees/$hash" asv run --python=same --set-commit-hash "$hash" "$@"
done
asv compare --split --factor 1.1 "$base" "$head"
