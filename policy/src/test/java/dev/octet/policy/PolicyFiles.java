package dev.octet.policy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The policy files under src/test/resources. */
final class PolicyFiles {

    static final Path EXAMPLE = resource("/example-policy.yaml");

    private PolicyFiles() {
    }

    /** The example policy and every file under policies/valid. */
    static List<Path> valid() {
        return Stream.concat(Stream.of(EXAMPLE), yamlFilesIn("/policies/valid").stream()).toList();
    }

    static List<Path> invalid() {
        return yamlFilesIn("/policies/invalid");
    }

    private static List<Path> yamlFilesIn(String directory) {
        try (Stream<Path> files = Files.list(resource(directory))) {
            return files.filter(file -> file.toString().endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path resource(String name) {
        try {
            return Path.of(PolicyFiles.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
