#!/usr/bin/env bash
# Build one of the interface-package test fixtures (test/fixtures/PKG: vision_msgs, hri_msgs) into PREFIX with the
# ROS 2 wheels of the venv (no ROS distro needed), then print what a process must prepend to its environment to use it.
#
#   scripts/build_fixture.sh PKG PREFIX            build if needed, then print KEY=PATH lines (prepend PATH to KEY)
#   scripts/build_fixture.sh PKG PREFIX --shell    the same as `export` lines:  eval "$(scripts/build_fixture.sh hri_msgs P --shell)"
#   scripts/build_fixture.sh PKG PREFIX --env      print only (no build); fails if PREFIX holds no current build of PKG
#
# Idempotent: a stamp in PREFIX records the hash of PKG's sources and of this script; an unchanged build is reused.
# Several fixtures may share one PREFIX (each has its own stamp and build directory).
# Needs cmake, a C/C++ compiler and the wheels in requirements-build.txt
# (.venv/bin/pip install -r requirements-build.txt). Build output goes to stderr, the environment to stdout.
# Environment: PYTHON (default: the repository's .venv/bin/python), FIXTURE_BUILD_DIR (default: PREFIX/_build/PKG).
#
# One fix to the wheels is applied (the notes' "sed fix"): their exported CMake files name the include directories
# of the machine that built them (/opt/python/cp311-cp311/...). The script rewrites those, in the venv, to this
# interpreter's Python and numpy include directories; that is idempotent and touches nothing else.
set -euo pipefail

die() { echo "build_fixture: error: $*" >&2; exit 1; }

[[ $# -ge 2 && -n "$1" && "$1" != -* && -n "$2" && "$2" != -* ]] || die "usage: $0 PKG PREFIX [--shell|--env]"
PKG="$1"
MODE="${3:-}"
[[ -z "$MODE" || "$MODE" == "--shell" || "$MODE" == "--env" ]] || die "unknown option '$MODE'"
[[ "$PKG" =~ ^[a-z][a-z0-9_]*$ ]] || die "'$PKG' is not a ROS package name"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/test/fixtures/$PKG"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[[ -f "$SRC/package.xml" ]] || die "fixture package not found at $SRC (fixtures: $(ls "$ROOT/test/fixtures" | xargs))"
grep -q "<name>$PKG</name>" "$SRC/package.xml" || die "$SRC/package.xml does not name the package $PKG"
[[ -x "$PYTHON" ]] || die "python '$PYTHON' not found (set PYTHON or create .venv)"
[[ "$MODE" == "--env" && ! -d "$2" ]] && die "no build in $2; run without --env first"
mkdir -p "$2"
PREFIX="$(cd "$2" && pwd)"
BUILD="${FIXTURE_BUILD_DIR:-$PREFIX/_build/$PKG}"
STAMP="$PREFIX/.${PKG}_fixture.stamp"

VENV="$("$PYTHON" -c 'import sys; print(sys.prefix)')"
PYVER="$("$PYTHON" -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')"
SITE="$PREFIX/lib/$PYVER/site-packages"
# The interface packages the fixture's messages use (<depend> in its package.xml), all from the venv's wheels.
mapfile -t DEPENDS < <(sed -n 's#^ *<depend>\([a-z0-9_]*\)</depend>.*#\1#p' "$SRC/package.xml")

print_env() {
  local key value
  for pair in "AMENT_PREFIX_PATH=$PREFIX" "CMAKE_PREFIX_PATH=$PREFIX" "PYTHONPATH=$SITE" "LD_LIBRARY_PATH=$PREFIX/lib"; do
    key="${pair%%=*}" value="${pair#*=}"
    if [[ "$MODE" == "--shell" ]]; then
      echo "export $key=\"$value\${$key:+:\$$key}\""
    else
      echo "$key=$value"
    fi
  done
}

# What a build depends on: the fixture's sources, this script, the venv and the versions of the wheels it builds with.
hash_inputs() {
  (cd "$SRC" && find . -type f \( -name '*.msg' -o -name 'CMakeLists.txt' -o -name 'package.xml' \) -print0 \
    | sort -z | xargs -0 sha256sum; sha256sum "$ROOT/scripts/build_fixture.sh" | cut -d' ' -f1; echo "$VENV"
   for pkg in "${DEPENDS[@]}" builtin_interfaces rosidl_generator_py rosidl_runtime_c rosidl_typesupport_fastrtps_c; do
     grep -m1 '<version>' "$VENV/share/$pkg/package.xml" 2>/dev/null || echo "$pkg missing"
   done) | sha256sum | cut -d' ' -f1
}

built_ok() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(hash_inputs)" && -d "$SITE/$PKG" ]]
}

if [[ "$MODE" == "--env" ]]; then
  built_ok || die "no current build of $PKG in $PREFIX; run without --env first"
  print_env
  exit 0
fi

if built_ok; then
  echo "build_fixture: $PKG up to date in $PREFIX" >&2
  print_env
  exit 0
fi

command -v cmake >/dev/null || die "cmake not found"
command -v "${CC:-cc}" >/dev/null || die "no C compiler (${CC:-cc})"
command -v "${CXX:-c++}" >/dev/null || die "no C++ compiler (${CXX:-c++})"
for pkg in ament_cmake rosidl_default_generators rosidl_core_generators ament_cmake_include_directories \
           ament_cmake_ros_core "${DEPENDS[@]}"; do
  [[ -d "$VENV/share/$pkg/cmake" ]] \
    || die "$pkg is not installed in $VENV (pip install -r $ROOT/requirements-build.txt)"
done
"$PYTHON" -c 'import ament_package, catkin_pkg, em, lark, numpy' 2>/dev/null \
  || die "python modules missing in $VENV (pip install -r $ROOT/requirements-build.txt)"

# The sed fix: exported CMake files of the wheels name the wheel builder's include directories.
PY_INCLUDE="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
NP_INCLUDE="$("$PYTHON" -c 'import numpy; print(numpy.get_include())')"
[[ -f "$PY_INCLUDE/Python.h" ]] || die "Python.h not found in $PY_INCLUDE (Python development headers missing)"
mapfile -t STALE < <(grep -rl --include='*.cmake' '/opt/python/cp311-cp311/' "$VENV/share" || true)
if ((${#STALE[@]})); then
  echo "build_fixture: fixing /opt/python/cp311-cp311 paths in ${#STALE[@]} exported CMake files of $VENV" >&2
  sed -i -e "s#/opt/python/cp311-cp311/include/python3\.11#$PY_INCLUDE#g" \
         -e "s#/opt/python/cp311-cp311/lib/python3\.11/site-packages/numpy/_core/include#$NP_INCLUDE#g" "${STALE[@]}"
  ! grep -rl --include='*.cmake' '/opt/python/cp311-cp311/' "$VENV/share" >/dev/null \
    || die "exported CMake files still name /opt/python/cp311-cp311 (a path this script does not know)"
fi

export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH"
unset PYTHONPATH
rm -f "$STAMP"
start=$SECONDS
GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)
if [[ -f "$BUILD/CMakeCache.txt" ]] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${GENERATOR[1]:-Unix Makefiles}\$" "$BUILD/CMakeCache.txt"; then
  rm -rf "$BUILD"
fi
{
  cmake -S "$SRC" -B "$BUILD" "${GENERATOR[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" -DBUILD_TESTING=OFF \
    -DPython3_EXECUTABLE="$PYTHON" -DPYTHON_INSTALL_DIR="lib/$PYVER/site-packages"
  cmake --build "$BUILD" --parallel "$(nproc)"
  cmake --install "$BUILD"
} >&2 || die "cmake failed (see the output above)"

[[ -d "$SITE/$PKG" ]] || die "the build installed no Python package at $SITE/$PKG"
hash_inputs > "$STAMP"
echo "build_fixture: built $PKG into $PREFIX in $((SECONDS - start)) s" >&2
print_env
