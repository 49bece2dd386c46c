package dev.octet.adapters.core;

import dev.octet.policy.Policy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For tests of what octet says: each test's standard error captured (octet's warnings go there), and
 * octet's runtime on the default policy before and after it. Register with {@code @RegisterExtension}.
 */
public final class CapturedStandardError implements BeforeEachCallback, AfterEachCallback {

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream saved;

    @Override
    public void beforeEach(ExtensionContext context) {
        err.reset();
        saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        OctetRuntime.install(Policy.defaults());
    }

    @Override
    public void afterEach(ExtensionContext context) {
        System.setErr(saved);
        OctetRuntime.install(Policy.defaults());
    }

    /** What the test printed to standard error so far. */
    public String printed() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** How often {@code part} occurs in {@link #printed()}. */
    public int count(String part) {
        return printed().split(Pattern.quote(part), -1).length - 1;
    }
}
