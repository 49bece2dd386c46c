package dev.octet.policy;

import java.util.ArrayList;
import java.util.List;

/**
 * The globs of a policy, matched without regular expressions: a glob is compiled into at most
 * {@value #MAX_ALTERNATIVES} sequences of single-character tokens and stars (its {@code {a,b}}
 * alternatives multiplied out), and each is matched by the two-pointer wildcard algorithm, which never
 * backtracks further than the last star: at most (name length x glob length) steps, whatever the glob
 * ({@code *a*a*a*a*a*a*a*a*a*a*b} against a long name included). Parameter and layer names are not
 * paths, so unlike {@link java.nio.file.PathMatcher} globs, {@code *} also matches {@code /} and
 * {@code .}.
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

    static final int MAX_ALTERNATIVES = 256;

    /** One glob character: a literal, any one character, a class, or a star (any run). */
    private record Token(Kind kind, char literal, char[] ranges, boolean negated) {

        enum Kind { LITERAL, ANY, CLASS, STAR }

        static final Token STAR = new Token(Kind.STAR, '\0', null, false);
        static final Token ANY = new Token(Kind.ANY, '\0', null, false);

        static Token literal(char c) {
            return new Token(Kind.LITERAL, c, null, false);
        }

        boolean matches(char c) {
            return switch (kind) {
                case LITERAL -> c == literal;
                case ANY -> true;
                case CLASS -> {
                    boolean in = false;
                    for (int i = 0; i < ranges.length && !in; i += 2) {
                        in = c >= ranges[i] && c <= ranges[i + 1];
                    }
                    yield in != negated;
                }
                case STAR -> throw new IllegalStateException("a star matches runs");
            };
        }
    }

    private final List<Token[]> alternatives;

    private Glob(List<Token[]> alternatives) {
        this.alternatives = alternatives;
    }

    /** Compiles {@code glob}; an IllegalArgumentException says what is wrong with it and how to write it. */
    static Glob compile(String glob) {
        Parser parser = new Parser(glob);
        List<List<Token>> sequences = parser.alternatives(false);
        List<Token[]> out = new ArrayList<>();
        for (List<Token> s : sequences) {
            out.add(s.toArray(new Token[0]));
        }
        return new Glob(out);
    }

    /** Whether the whole of {@code name} matches. */
    boolean matches(String name) {
        for (Token[] tokens : alternatives) {
            if (matches(tokens, name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The two-pointer algorithm: on a mismatch, go back to just after the last star and let it swallow
     * one more character. Only the last star is ever revisited, which is enough for single-character
     * tokens: any match the earlier stars allow, the last one allows too.
     */
    private static boolean matches(Token[] tokens, String name) {
        int t = 0;
        int n = 0;
        int starToken = -1;
        int starName = 0;
        while (n < name.length()) {
            if (t < tokens.length && tokens[t].kind() == Token.Kind.STAR) {
                starToken = t++;
                starName = n;
            } else if (t < tokens.length && tokens[t].matches(name.charAt(n))) {
                t++;
                n++;
            } else if (starToken >= 0) {
                t = starToken + 1;
                n = ++starName;
            } else {
                return false;
            }
        }
        while (t < tokens.length && tokens[t].kind() == Token.Kind.STAR) {
            t++;
        }
        return t == tokens.length;
    }

    /** A recursive-descent reading of braces; every sequence it returns is a whole alternative. */
    private static final class Parser {
        private final String glob;
        private int i;

        Parser(String glob) {
            this.glob = glob;
        }

        /** Sequences up to the end (or, {@code inBraces}, up to the closing brace, consumed). */
        List<List<Token>> alternatives(boolean inBraces) {
            List<List<Token>> all = new ArrayList<>();
            List<List<Token>> current = new ArrayList<>();
            current.add(new ArrayList<>());
            while (i < glob.length()) {
                char c = glob.charAt(i++);
                if (inBraces && c == '}') {
                    all.addAll(current);
                    return bounded(all);
                } else if (inBraces && c == ',') {
                    all.addAll(current);
                    current = new ArrayList<>();
                    current.add(new ArrayList<>());
                } else if (c == '{') {
                    current = product(current, alternatives(true));
                } else {
                    Token token = switch (c) {
                        case '*' -> Token.STAR;
                        case '?' -> Token.ANY;
                        case '[' -> characterClass();
                        case '\\' -> Token.literal(i < glob.length() ? glob.charAt(i++) : c);
                        default -> Token.literal(c);
                    };
                    for (List<Token> s : current) {
                        s.add(token);
                    }
                }
            }
            if (inBraces) {
                throw new IllegalArgumentException("invalid glob " + quoted() + ": unclosed '{'. "
                        + "Close the alternatives, as in \"{dense,conv}*\", or write \\{ for a literal brace");
            }
            all.addAll(current);
            return bounded(all);
        }

        private List<List<Token>> product(List<List<Token>> prefixes, List<List<Token>> suffixes) {
            List<List<Token>> out = new ArrayList<>();
            for (List<Token> p : prefixes) {
                for (List<Token> s : suffixes) {
                    List<Token> joined = new ArrayList<>(p);
                    joined.addAll(s);
                    out.add(joined);
                    bounded(out);
                }
            }
            return out;
        }

        private List<List<Token>> bounded(List<List<Token>> alternatives) {
            if (alternatives.size() > MAX_ALTERNATIVES) {
                throw new IllegalArgumentException("glob " + quoted() + " has more than " + MAX_ALTERNATIVES
                        + " alternatives once its braces are multiplied out. Write fewer, or a rule per group of names");
            }
            return alternatives;
        }

        /** The class opened just before {@code i}. */
        private Token characterClass() {
            int first = i;
            boolean negated = first < glob.length() && (glob.charAt(first) == '!' || glob.charAt(first) == '^');
            if (negated) {
                first++;
            }
            int close = glob.indexOf(']', first + 1);
            if (first >= glob.length() || close < 0) {
                throw new IllegalArgumentException("invalid glob " + quoted() + ": unclosed '['. "
                        + "Close the class, as in \"layer[0-9]\", or write \\[ for a literal bracket");
            }
            List<Character> ranges = new ArrayList<>();
            for (int k = first; k < close; k++) {
                char low = glob.charAt(k);
                char high = low;
                if (k + 2 < close && glob.charAt(k + 1) == '-') {
                    high = glob.charAt(k + 2);
                    k += 2;
                    if (high < low) {
                        throw new IllegalArgumentException("invalid glob " + quoted() + ": the range " + low + "-" + high
                                + " is empty. Write it low to high, as in [" + high + "-" + low + "]");
                    }
                }
                ranges.add(low);
                ranges.add(high);
            }
            char[] r = new char[ranges.size()];
            for (int k = 0; k < r.length; k++) {
                r[k] = ranges.get(k);
            }
            i = close + 1;
            return new Token(Token.Kind.CLASS, '\0', r, negated);
        }

        private String quoted() {
            return '"' + NodeReader.excerpt(glob) + '"';
        }
    }
}
