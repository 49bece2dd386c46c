package dev.octet.policy;

/**
 * How a parameter's optimizer state is stored: {@code bits}, {@code blockSize} and
 * {@code minQuantizedSize} (bitsandbytes' {@code optim_bits}, {@code block_size} and
 * {@code min_8bit_size}). A rule sets only some of them, so each may be {@code null}, meaning
 * "not set here"; the policy's defaults are always complete.
 */
public record QuantizationSettings(Integer bits, Integer blockSize, Long minQuantizedSize) {

    /** The settings bitsandbytes uses: 8-bit state, blocks of 256, tensors from 4096 elements. */
    public static final QuantizationSettings DEFAULTS = new QuantizationSettings(8, 256, 4096L);

    static final int MIN_BLOCK_SIZE = 64;
    static final int MAX_BLOCK_SIZE = 4096;

    public QuantizationSettings {
        if (bits != null) {
            validBits(bits);
        }
        if (blockSize != null) {
            validBlockSize(blockSize);
        }
        if (minQuantizedSize != null) {
            validMinQuantizedSize(minQuantizedSize);
        }
    }

    /** Whether no setting is given. */
    public boolean isEmpty() {
        return bits == null && blockSize == null && minQuantizedSize == null;
    }

    /** Whether every setting is given. */
    public boolean isComplete() {
        return bits != null && blockSize != null && minQuantizedSize != null;
    }

    /** These settings, with each one not set here taken from {@code fallback}. */
    public QuantizationSettings withFallback(QuantizationSettings fallback) {
        return new QuantizationSettings(
                bits != null ? bits : fallback.bits,
                blockSize != null ? blockSize : fallback.blockSize,
                minQuantizedSize != null ? minQuantizedSize : fallback.minQuantizedSize);
    }

    /** Returns {@code bits} if it is 8 or 32; otherwise throws an IllegalArgumentException. */
    public static int validBits(long bits) {
        if (bits != 8 && bits != 32) {
            throw new IllegalArgumentException("bits " + bits + " is not supported. "
                    + "Use 8 (block-wise quantized state) or 32 (full-precision state)");
        }
        return (int) bits;
    }

    /** Returns {@code blockSize} if it is a power of two in 64..4096; otherwise throws. */
    public static int validBlockSize(long blockSize) {
        String accepted = ". Use a power of two from " + MIN_BLOCK_SIZE + " to " + MAX_BLOCK_SIZE
                + " (64, 128, 256, 512, 1024, 2048 or 4096)";
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("blockSize " + blockSize + " is out of range" + accepted);
        }
        if (Long.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("blockSize " + blockSize + " is not a power of two" + accepted);
        }
        return (int) blockSize;
    }

    /** Returns {@code minQuantizedSize} if it is not negative; otherwise throws. */
    public static long validMinQuantizedSize(long minQuantizedSize) {
        if (minQuantizedSize < 0) {
            throw new IllegalArgumentException("minQuantizedSize " + minQuantizedSize + " is negative. "
                    + "Use an element count >= 0 (0 quantizes tensors of every size)");
        }
        return minQuantizedSize;
    }
}
