package dev.octet.kernels;

import dev.octet.kernels.conformance.ReferenceFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** The reference vectors in ../shared/golden (path from the build's {@code octet.golden} property). */
public final class Golden {

    private static ReferenceFile file;

    private Golden() {
    }

    public static Path path() {
        String configured = System.getProperty("octet.golden");
        return Path.of(configured != null ? configured : "../../shared/golden/bnb_golden");
    }

    public static synchronized ReferenceFile file() {
        if (file == null) {
            try {
                file = ReferenceFile.open(path());
            } catch (IOException e) {
                throw new UncheckedIOException("the reference vectors are required (../shared/golden beside the "
                        + "checkout, or -Doctet.golden=<path>/bnb_golden): " + e.getMessage(), e);
            }
        }
        return file;
    }
}
