# The example pipeline jobs of examples/pipelines, built with Maven into the tools cache (jars
# are never committed): $TOOLS/pipelines-<hash>/flink-enrich.jar and spark-aggregate.jar, where
# <hash> covers the projects' sources and the version pins they are built with, so a change to
# either builds anew and a finished build is reused. Sourced by scripts/tools.sh (which builds
# them whenever flink or spark is selected) and scripts/stack-up.sh (which exports the jars'
# paths in stack.env). Needs SCRIPTS, TOOLS and the pins of scripts/versions.sh; uses
# install_say/install_die of scripts/lib/install.sh.
# shellcheck shell=bash

PIPELINES_SRC="$(cd "$SCRIPTS/.." && pwd)/examples/pipelines"
PIPELINES_PROJECTS="flink-enrich spark-aggregate"

# The -D properties every project's POM takes its versions from (they have no defaults).
pipelines_maven_properties() {
    printf '%s\n' \
        "-Dflink.version=$FLINK_VERSION" \
        "-Dflink.kafka.connector.version=$FLINK_KAFKA_CONNECTOR_VERSION" \
        "-Dspark.version=$SPARK_MAVEN_VERSION" \
        "-Dspark.scala.binary.version=$SPARK_SCALA_BINARY_VERSION" \
        "-Dscala.version=$SPARK_SCALA_VERSION" \
        "-Dmaven.compiler.plugin.version=$MAVEN_COMPILER_PLUGIN_VERSION" \
        "-Dmaven.resources.plugin.version=$MAVEN_RESOURCES_PLUGIN_VERSION" \
        "-Dmaven.surefire.plugin.version=$MAVEN_SUREFIRE_PLUGIN_VERSION" \
        "-Dmaven.jar.plugin.version=$MAVEN_JAR_PLUGIN_VERSION" \
        "-Dmaven.shade.plugin.version=$MAVEN_SHADE_PLUGIN_VERSION"
}

# The directory the jars of the current sources and pins are (or will be) built into.
pipelines_dir() {
    local hash
    hash="$(
        cd "$PIPELINES_SRC" || exit 1
        {
            pipelines_maven_properties
            # Path and content of every POM and source file (not target/, README or try.sh).
            # shellcheck disable=SC2086 # a list of directories
            find $PIPELINES_PROJECTS -name target -prune -o -type f \( -name pom.xml -o -path '*/src/*' \) -print |
                LC_ALL=C sort | while IFS= read -r f; do printf '%s\0' "$f"; cat "$f"; done
        } | sha256sum | cut -c1-12
    )" && [ -n "$hash" ] || install_die "cannot read the pipeline sources in $PIPELINES_SRC"
    echo "$TOOLS/pipelines-$hash"
}

# Builds both jobs (mvn package, out of tree, Maven's local repository $TOOLS/m2) unless a
# finished build of these sources and pins is there.
install_pipelines() {
    local dest marker log project props
    dest="$(pipelines_dir)"
    marker="$dest/.datamesh-pipelines"
    log="$dest.maven.log"
    [ -f "$marker" ] && return 0
    command -v mvn >/dev/null 2>&1 || install_die "mvn (Apache Maven) not found: it builds the example pipeline jobs of $PIPELINES_SRC"
    install_say "building the example pipeline jobs of $PIPELINES_SRC into $dest (log: $log)"
    mapfile -t props < <(pipelines_maven_properties)
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    : >"$log"
    for project in $PIPELINES_PROJECTS; do
        echo "== mvn package $PIPELINES_SRC/$project" >>"$log"
        if ! mvn -B -q -f "$PIPELINES_SRC/$project/pom.xml" -Dmaven.repo.local="$TOOLS/m2" \
                "${props[@]}" -DbuildDirectory="$dest.tmp/build/$project" package >>"$log" 2>&1; then
            tail -n 30 "$log" >&2
            install_die "mvn could not build $PIPELINES_SRC/$project (full log: $log)"
        fi
        [ -f "$dest.tmp/build/$project/$project.jar" ] ||
            install_die "mvn built no $project.jar in $dest.tmp/build/$project (log: $log)"
        mv "$dest.tmp/build/$project/$project.jar" "$dest.tmp/$project.jar"
    done
    rm -rf "$dest.tmp/build"
    echo "$PIPELINES_PROJECTS" >"$dest.tmp/.datamesh-pipelines"
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
}
