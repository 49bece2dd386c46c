package dev.octet.policy;

import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A pattern over names (parameter names, layer names, layer types, optimizer names) as written in a
 * policy: a glob (see {@link Glob}, matched without backtracking) or, between slashes as in
 * {@code /dense[0-9]+_W/}, a Java regular expression of at most {@value #MAX_REGEX} characters. Either
 * must match the whole name, case-sensitively.
 */
public final class NamePattern {

    /** Longest regular expression a policy may hold: names are short, and a long expression can backtrack long. */
    static final int MAX_REGEX = 200;
    /** Longest glob: names are short. */
    static final int MAX_GLOB = 1000;

    private final String text;
    private final int line;
    private final Predicate<String> matcher;

    private NamePattern(String text, int line, Predicate<String> matcher) {
        this.text = text;
        this.line = line;
        this.matcher = matcher;
    }

    /**
     * Compiles {@code text}, written at {@code line} of the policy (0 if it comes from elsewhere).
     * Throws an IllegalArgumentException saying what is wrong for an empty pattern, a bad glob or a
     * regex that does not compile.
     */
    public static NamePattern compile(String text, int line) {
        Objects.requireNonNull(text, "text");
        boolean isRegex = text.length() >= 2 && text.startsWith("/") && text.endsWith("/");
        String body = isRegex ? text.substring(1, text.length() - 1) : text;
        if (body.isEmpty()) {
            throw new IllegalArgumentException("empty pattern \"" + text + "\" matches no name. "
                    + "Write a glob such as \"dense*\" (\"*\" matches any name) or a /regex/");
        }
        if (body.length() > (isRegex ? MAX_REGEX : MAX_GLOB)) {
            throw new IllegalArgumentException("the pattern \"" + NodeReader.excerpt(text) + "\" has " + body.length()
                    + " characters; a " + (isRegex ? "regular expression" : "glob") + " may have at most "
                    + (isRegex ? MAX_REGEX : MAX_GLOB) + ". Write a shorter pattern, or several rules");
        }
        if (!isRegex) {
            Glob glob = Glob.compile(body);
            return new NamePattern(text, line, glob::matches);
        }
        try {
            Pattern regex = Pattern.compile(body);
            return new NamePattern(text, line, name -> regex.matcher(name).matches());
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regular expression " + text + ": " + e.getDescription()
                    + " near index " + e.getIndex() + ". Fix the expression (java.util.regex syntax), "
                    + "or write a glob without the enclosing slashes");
        }
    }

    /** Whether the whole of {@code name} matches; an unknown ({@code null}) name matches nothing. */
    public boolean matches(String name) {
        return name != null && matcher.test(name);
    }

    /** The pattern as written in the policy. */
    public String text() {
        return text;
    }

    /** The 1-based line of the policy it was written on, or 0 if it does not come from a file. */
    public int line() {
        return line;
    }

    /** The pattern as written, quoted, for reports. */
    @Override
    public String toString() {
        return '"' + text + '"';
    }
}
