#!/usr/bin/env bash
# Installs syncer for the composite action (action.yml) into a virtual environment of its own
# under RUNNER_TEMP: nothing else of the job lands in it, and the unrelated `syncer` project of
# the package index (which also installs an import package named `syncer`) cannot shadow it.
#
# Every dependency comes from action/requirements.txt, pinned and hash-checked, as wheels only
# (an sdist would run its own build with unpinned build tools). Then syncer itself, without
# dependencies: the action's own checkout when VERSION is empty (built with the hash-checked
# hatchling of action/build-requirements.txt), else syncer-for-losant==VERSION from the index.
# Output: syncer=<path of the installed syncer command>.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
source_dir="$(dirname "$here")"
version="${VERSION:-}"
# a release number only: the value goes into a requirement, where a URL or an option must not
if [ -n "$version" ] && ! [[ "$version" =~ ^[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?$ ]]; then
  echo "::error::syncer action: version must be a release number such as 0.2.0"
  exit 1
fi

venv="${RUNNER_TEMP:?RUNNER_TEMP is not set}/syncer-venv"
python -m venv "$venv"
bin="$venv/bin"
if [ -d "$venv/Scripts" ]; then bin="$venv/Scripts"; fi  # Windows runners
pip=("$bin/python" -m pip install --disable-pip-version-check --no-input --quiet)

"${pip[@]}" --require-hashes --only-binary :all: -r "$here/requirements.txt"
if [ -n "$version" ]; then
  "${pip[@]}" --no-deps --only-binary :all: "syncer-for-losant==$version"
else
  "${pip[@]}" --require-hashes --only-binary :all: -r "$here/build-requirements.txt"
  "${pip[@]}" --no-deps --no-build-isolation "$source_dir"
fi

echo "syncer=$bin/syncer" >> "${GITHUB_OUTPUT:-/dev/null}"
