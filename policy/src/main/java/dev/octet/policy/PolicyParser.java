package dev.octet.policy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.ReaderException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

/**
 * Reads policy files. Whatever is wrong with a file, the parser throws a {@link PolicyException}
 * naming the file, the line and column, what is wrong and what would be accepted; it never returns
 * a half-read policy.
 *
 * <p>The YAML is composed into a node tree, not bound to beans, so that every value keeps its
 * position for error messages. Scalars are typed with the YAML 1.2 core schema, under which
 * {@code 1e-4}, {@code 1.0e-4} and {@code 0.001} are all numbers.
 *
 * <p>A policy is a few lines; a file that is not (a huge or endless file, YAML nested thousands deep,
 * aliases of aliases, a value of a million characters) is refused with a located error before it
 * costs time or memory: at most {@value #MAX_BYTES} bytes are read, collections nest at most
 * {@value #MAX_DEPTH} deep, values are bounded (NodeReader), and patterns match without backtracking
 * (NamePattern).
 */
public final class PolicyParser {

    private static final char BYTE_ORDER_MARK = '\uFEFF';
    /** Largest policy file read. */
    static final int MAX_BYTES = 256 << 10;
    /** Deepest nesting of collections: a policy needs five. */
    static final int MAX_DEPTH = 64;

    private PolicyParser() {
    }

    /** Reads the UTF-8 policy file at {@code file}; messages name it as given. */
    public static Policy parse(Path file) {
        String source = file.toString();
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException | SecurityException e) {
            throw new PolicyException(source, "cannot read the policy file (" + e.getClass().getSimpleName() + ": "
                    + e.getMessage() + "). Check that the path exists and is a readable file", e);
        }
        if (bytes.length > MAX_BYTES) {
            throw tooLarge(source);
        }
        return parse(decodeUtf8(bytes, source), source);
    }

    /** Reads a policy from {@code text}; messages name it {@code sourceName}. */
    public static Policy parse(String text, String sourceName) {
        if (text.length() > MAX_BYTES) {
            throw tooLarge(sourceName);
        }
        int nul = text.indexOf('\0');
        if (nul >= 0) {
            throw notText(sourceName, text.substring(0, nul), "contains a NUL character");
        }
        checkDepth(text, sourceName);
        return new PolicyReader(sourceName).read(composeSingleDocument(text, sourceName));
    }

    private static PolicyException tooLarge(String source) {
        return new PolicyException(source, 1, 1, "the policy file is larger than " + MAX_BYTES / 1024 + " KiB; a policy is a"
                + " few lines. Give the path of the YAML policy file");
    }

    /**
     * Refuses, at the place it happens, a YAML version other than 1.x and nesting deeper than
     * {@link #MAX_DEPTH}: flow collections
     * ({@code [ {}) outside quotes and comments, and block indentation deeper than that many levels.
     * The YAML composer recurses once per level, and a file nested thousands deep would overflow the stack.
     */
    private static void checkDepth(String text, String source) {
        int depth = 0;
        int line = 1;
        int column = 0;
        char quote = 0;
        boolean comment = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            column++;
            if (c == '\n') {
                line++;
                column = 0;
                comment = false;
                continue;
            }
            if (comment) {
                continue;
            }
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else if (c == '\\' && quote == '"') {
                    i++;
                    column++;
                }
                continue;
            }
            if (column == 1 && text.startsWith("%YAML", i) && !text.startsWith("%YAML 1.", i)) {
                throw new PolicyException(source, line, column, "the file asks for YAML version "
                        + NodeReader.excerpt(text.substring(i + 5, Math.max(i + 5, text.indexOf('\n', i) < 0 ? text.length()
                        : text.indexOf('\n', i))).trim()) + "; policies are YAML 1.2. Remove the %YAML line");
            }
            switch (c) {
                case '"', '\'' -> quote = c;
                case '#' -> comment = i == 0 || Character.isWhitespace(text.charAt(i - 1));
                case '[', '{' -> depth++;
                case ']', '}' -> depth = Math.max(0, depth - 1);
                default -> {
                }
            }
            boolean tooDeepIndentation = column == 1 && indentation(text, i) > 2 * MAX_DEPTH;
            if (depth > MAX_DEPTH || tooDeepIndentation) {
                throw new PolicyException(source, line, column, "the YAML is nested more than " + MAX_DEPTH
                        + " levels deep here; a policy needs five. Write the policy as its documentation shows");
            }
        }
    }

    private static int indentation(String text, int lineStart) {
        int n = 0;
        while (lineStart + n < text.length() && (text.charAt(lineStart + n) == ' ' || text.charAt(lineStart + n) == '-')) {
            n++;
        }
        return n;
    }

    private static String decodeUtf8(byte[] bytes, String source) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (result.isError()) {
            throw notText(source, out.flip(), "is not valid UTF-8 (byte 0x"
                    + Integer.toHexString(bytes[in.position()] & 0xFF) + " at offset " + in.position() + ")");
        }
        decoder.flush(out);
        String text = out.flip().toString();
        return text.startsWith(String.valueOf(BYTE_ORDER_MARK)) ? text.substring(1) : text;
    }

    /** The error for content that is not text, located just after {@code textBefore}. */
    private static PolicyException notText(String source, CharSequence textBefore, String what) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < textBefore.length(); i++) {
            if (textBefore.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return new PolicyException(source, line, textBefore.length() - lineStart + 1, "the file " + what
                + ", so it is not a text YAML file. Give the path of the YAML policy, saved as UTF-8");
    }

    private static Node composeSingleDocument(String text, String source) {
        LoadSettings settings = LoadSettings.builder().setLabel(source).setSchema(new CoreSchema())
                .setCodePointLimit(MAX_BYTES).setMaxAliasesForCollections(50).setAllowRecursiveKeys(false).build();
        try {
            Iterator<Node> documents = new Compose(settings).composeAllFromString(text).iterator();
            if (!documents.hasNext()) {
                throw empty(source);
            }
            Node document = documents.next();
            if (documents.hasNext()) {
                throw new NodeReader(source).error(documents.next(), "the file holds more than one YAML document. "
                        + "Keep a single policy in the file and remove the extra '---'");
            }
            if (document instanceof ScalarNode scalar && scalar.getTag().equals(Tag.NULL)) {
                throw empty(source);
            }
            return document;
        } catch (MarkedYamlEngineException e) {
            throw malformed(source, e);
        } catch (ReaderException e) {
            throw notText(source, text.substring(0, Math.min(e.getPosition(), text.length())),
                    "contains the non-printable character U+" + String.format("%04X", e.getCodePoint()));
        } catch (YamlEngineException e) {
            throw new PolicyException(source, "malformed YAML: " + NodeReader.excerpt(String.valueOf(e.getMessage()))
                    + ". Fix the YAML syntax", e);
        } catch (StackOverflowError e) {
            // checkDepth bounds what nests; this is the last line, should YAML find another way to recurse.
            throw new PolicyException(source, 1, 1, "the YAML is nested too deeply for octet to read; a policy needs five"
                    + " levels. Write the policy as its documentation shows");
        }
    }

    private static PolicyException empty(String source) {
        return new PolicyException(source, 1, 1, "the policy file is empty. "
                + "Leave out the policy to get the defaults, or write 'defaults: {}'");
    }

    private static PolicyException malformed(String source, MarkedYamlEngineException e) {
        Mark mark = e.getProblemMark().or(e::getContextMark).orElse(null);
        String context = e.getContext() == null ? ""
                : " (" + e.getContext() + e.getContextMark().map(m -> " at line " + (m.getLine() + 1)).orElse("") + ")";
        String problem = "malformed YAML: " + e.getProblem() + context
                + ". Check the indentation, quoting and 'key: value' separators here";
        return mark == null
                ? new PolicyException(source, problem, e)
                : new PolicyException(source, mark.getLine() + 1, mark.getColumn() + 1, problem);
    }
}
