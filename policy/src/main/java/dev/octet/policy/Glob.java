package dev.octet.policy;

/**
 * Translates the globs of a policy into {@link java.util.regex} syntax. Parameter and layer names
 * are not paths, so unlike {@link java.nio.file.PathMatcher} globs, {@code *} also matches
 * {@code /} and {@code .}.
 *
 * <ul>
 *   <li>{@code *} any run of characters, including none; {@code ?} exactly one character;</li>
 *   <li>{@code [abc]}, {@code [a-z]}, {@code [!0-9]} or {@code [^0-9]} a character class (a
 *       {@code ]} right after the opening bracket is a member);</li>
 *   <li>{@code {a,b}} alternatives, which may nest and hold wildcards;</li>
 *   <li>{@code \} makes the next character literal; everything else is literal.</li>
 * </ul>
 */
final class Glob {

    private Glob() {
    }

    /** The regex that matches, as a whole, the names {@code glob} matches. */
    static String toRegex(String glob) {
        StringBuilder regex = new StringBuilder();
        int openAlternatives = 0;
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> regex.append(".*");
                case '?' -> regex.append('.');
                case '[' -> i = appendCharacterClass(glob, i, regex);
                case '{' -> {
                    regex.append("(?:");
                    openAlternatives++;
                }
                case '}', ',' -> {
                    if (openAlternatives == 0) {
                        appendLiteral(c, regex);
                    } else if (c == ',') {
                        regex.append('|');
                    } else {
                        regex.append(')');
                        openAlternatives--;
                    }
                }
                case '\\' -> appendLiteral(i + 1 < glob.length() ? glob.charAt(++i) : c, regex);
                default -> appendLiteral(c, regex);
            }
        }
        if (openAlternatives > 0) {
            throw new IllegalArgumentException("invalid glob \"" + glob + "\": unclosed '{'. "
                    + "Close the alternatives, as in \"{dense,conv}*\", or write \\{ for a literal brace");
        }
        return regex.toString();
    }

    /** Appends the class opened at {@code open}; returns the index of its closing bracket. */
    private static int appendCharacterClass(String glob, int open, StringBuilder regex) {
        int first = open + 1;
        boolean negated = first < glob.length() && (glob.charAt(first) == '!' || glob.charAt(first) == '^');
        if (negated) {
            first++;
        }
        int close = glob.indexOf(']', first + 1);
        if (first >= glob.length() || close < 0) {
            throw new IllegalArgumentException("invalid glob \"" + glob + "\": unclosed '['. "
                    + "Close the class, as in \"layer[0-9]\", or write \\[ for a literal bracket");
        }
        regex.append(negated ? "[^" : "[");
        for (int i = first; i < close; i++) {
            char c = glob.charAt(i);
            boolean rangeDash = c == '-' && i > first && i < close - 1;
            if (rangeDash) {
                regex.append(c);
            } else {
                appendLiteral(c, regex);
            }
        }
        regex.append(']');
        return close;
    }

    private static void appendLiteral(char c, StringBuilder regex) {
        // A backslash before any non-alphabetic character is always a literal in java.util.regex.
        if (!Character.isLetterOrDigit(c)) {
            regex.append('\\');
        }
        regex.append(c);
    }
}
