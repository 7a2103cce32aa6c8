# Install helpers for scripts/tools.sh and the service files (scripts/stack/<svc>.sh): Maven
# artifacts with their dependencies, and PyPI packages in venvs of their own, each into the tools
# cache with a marker of what was installed, so a finished install is a quick check next time.
# Needs TOOLS (the cache) and PYTHON set. Progress and errors go to stderr.
# shellcheck shell=bash

install_say() { echo "tools.sh: $*" >&2; }
install_die() { install_say "ERROR: $*"; exit 1; }

# maven_fetch DEST "group:artifact:version[:type]"...: the artifacts and everything they depend
# on (runtime scope) as jars in DEST/libs, through a small POM written here and
# `mvn dependency:copy-dependencies`. Maven's local repository is $TOOLS/m2 (shared by every
# install, never ~/.m2). A DEST whose marker matches the list is left alone.
maven_fetch() {
    local dest="$1"; shift
    local want="$*" marker="$dest/.datamesh-maven" log="$dest.maven.log"
    if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then return 0; fi
    command -v mvn >/dev/null 2>&1 || install_die "mvn (Apache Maven) not found: it installs $want from Maven Central"
    install_say "fetching $want from Maven Central into $dest (log: $log)"
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    {
        echo '<project xmlns="http://maven.apache.org/POM/4.0.0">'
        echo '  <modelVersion>4.0.0</modelVersion>'
        echo '  <groupId>local.datamesh</groupId><artifactId>tools</artifactId><version>0</version>'
        echo '  <dependencies>'
        local coord g a v t
        for coord in "$@"; do
            IFS=: read -r g a v t <<<"$coord"
            printf '    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version>%s</dependency>\n' \
                "$g" "$a" "$v" "${t:+<type>$t</type>}"
        done
        echo '  </dependencies>'
        echo '</project>'
    } >"$dest.tmp/pom.xml"
    if ! mvn -q -B -f "$dest.tmp/pom.xml" -Dmaven.repo.local="$TOOLS/m2" \
            dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest.tmp/libs" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        install_die "mvn could not fetch $want (full log: $log; POM: $dest.tmp/pom.xml)"
    fi
    echo "$want" >"$dest.tmp/.datamesh-maven"
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
}

# pip_venv VENV "pkg==version"...: a venv of its own at VENV with exactly these pins installed
# (extra pip flags, like --no-deps, in PIP_EXTRA). A VENV whose marker matches is left alone.
pip_venv() {
    local venv="$1"; shift
    local want="$* ${PIP_EXTRA:-}" marker="$venv/.datamesh-pip" log="$venv.pip.log"
    if [ -x "$venv/bin/python" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ]; then return 0; fi
    install_say "installing $* into $venv (log: $log)"
    if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then rm -rf "$venv"; fi
    [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv" || install_die "python -m venv $venv failed"
    rm -f "$marker"
    # shellcheck disable=SC2086 # PIP_EXTRA is a list of flags
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check ${PIP_EXTRA:-} "$@" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        install_die "pip install $* failed (full log: $log)"
    fi
    echo "$want" >"$marker"
}

# selected_services [SERVICE...]: the services to install or start, in the start order of
# STACK_ALL_SERVICES (scripts/versions.sh): the arguments, else STACK_SERVICES (comma or space
# separated; "all" or unset: every service). An unknown name is an error listing the known ones.
selected_services() {
    local want=("$@") svc known out=()
    if [ "${#want[@]}" -eq 0 ]; then
        local from_env="${STACK_SERVICES:-}"
        read -r -a want <<<"${from_env//,/ }"
    fi
    if [ "${#want[@]}" -eq 0 ] || [ "${want[*]}" = all ]; then
        read -r -a want <<<"$STACK_ALL_SERVICES"
    fi
    for svc in "${want[@]}"; do
        [[ " $STACK_ALL_SERVICES " == *" $svc "* ]] ||
            install_die "unknown stack service '$svc' (STACK_SERVICES takes: ${STACK_ALL_SERVICES// /, }, or all)"
    done
    for known in $STACK_ALL_SERVICES; do
        for svc in "${want[@]}"; do
            if [ "$svc" = "$known" ]; then out+=("$known"); break; fi
        done
    done
    echo "${out[*]}"
}

# site_package VENV PACKAGE FILE: the directory of PACKAGE in VENV's site-packages (whatever its
# python minor version) that holds FILE; fails when none does. Flink and Spark ship their whole
# distribution inside a PyPI package this way.
site_package() {
    local d
    for d in "$1"/lib/python3*/site-packages/"$2"; do
        [ -f "$d/$3" ] && { echo "$d"; return 0; }
    done
    return 1
}

# go_build BIN MODULE VERSION PACKAGE [LDFLAGS]: builds PACKAGE (a path inside the module, e.g.
# ./cmd/tofu or .) of the Go module MODULE@VERSION from the Go module proxy into BIN, linked with
# LDFLAGS when given (what the project's own release build sets, e.g. its version stamp).
# `go install` refuses modules with replace directives (OpenTofu, mongey/kafka have them), so the
# module is fetched with `go mod download` and built inside a writable copy of it, with its own
# go.mod and go.sum. Go's module and build caches are $TOOLS/go/{mod,cache} (never ~/go). A BIN
# whose marker matches is left alone. The build log is BIN.go.log, each build in it between a
# start and an end line with the time (how long a cold build took).
go_build() {
    local bin="$1" module="$2" version="$3" package="$4" ldflags="${5:-}"
    local stamp="$module@$version $package${ldflags:+ -ldflags=$ldflags}" marker="$1.datamesh-go" log="$1.go.log"
    if [ -x "$bin" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$stamp" ]; then return 0; fi
    command -v go >/dev/null 2>&1 || install_die "go not found: it builds $module@$version from the Go module proxy"
    install_say "building $module@$version ($package) from the Go module proxy into $bin (log: $log)"
    mkdir -p "$(dirname "$bin")" "$TOOLS/go"
    export GOMODCACHE="$TOOLS/go/mod" GOCACHE="$TOOLS/go/cache" GOFLAGS="-modcacherw -buildvcs=false"
    local dir work
    # A temporary module asks for the download, so no go.mod of the caller's is touched.
    work="$(mktemp -d "${TMPDIR:-/tmp}/datamesh-go-XXXXXX")"
    local started=$SECONDS
    echo "go_build: $(date -u +%FT%TZ) building $stamp" >>"$log"
    if ! dir="$(cd "$work" && go mod download -json "$module@$version" 2>>"$log" |
            "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])' 2>>"$log")" || [ -z "$dir" ]; then
        rm -rf "$work"
        tail -n 30 "$log" >&2
        install_die "go mod download $module@$version failed (full log: $log)"
    fi
    cp -r "$dir/." "$work/src"
    chmod -R u+w "$work/src"
    if ! (cd "$work/src" && CGO_ENABLED=0 go build -trimpath -ldflags="$ldflags" -o "$bin.tmp" "$package") >>"$log" 2>&1; then
        rm -rf "$work"
        tail -n 30 "$log" >&2
        install_die "go build $module@$version $package failed (full log: $log)"
    fi
    rm -rf "$work"
    echo "go_build: $(date -u +%FT%TZ) built $stamp in $((SECONDS - started)) s" >>"$log"
    mv -f "$bin.tmp" "$bin"
    echo "$stamp" >"$marker"
}
