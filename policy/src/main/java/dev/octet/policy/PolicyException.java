package dev.octet.policy;

/**
 * A policy file that cannot be used. The message is one line, {@code <source>:<line>:<column>:
 * <what is wrong>. <what is accepted or how to fix it>}, in the form compilers use, so that editors
 * and terminals can jump to the offending spot. Problems that have no position in the file (it
 * cannot be read at all) leave out line and column.
 */
public final class PolicyException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final int column;

    PolicyException(String source, int line, int column, String problem) {
        super(source + ":" + line + ":" + column + ": " + problem);
        this.source = source;
        this.line = line;
        this.column = column;
    }

    PolicyException(String source, String problem, Throwable cause) {
        super(source + ": " + problem, cause);
        this.source = source;
        this.line = 0;
        this.column = 0;
    }

    /** The file path or source name the policy was read from. */
    public String source() {
        return source;
    }

    /** The 1-based line of the problem, or 0 when it has no position in the file. */
    public int line() {
        return line;
    }

    /** The 1-based column of the problem, or 0 when it has no position in the file. */
    public int column() {
        return column;
    }
}
