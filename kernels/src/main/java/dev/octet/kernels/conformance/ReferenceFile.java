package dev.octet.kernels.conformance;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A reference file pair: {@code <base>.json} (metadata and an index of named arrays) and
 * {@code <base>.bin} (the arrays, little-endian, at the indexed offsets). See docs/technique.md section 7.
 */
public final class ReferenceFile {

    private final Path base;
    private final Map<String, Object> meta;
    private final Map<String, Object> arrays;
    private final ByteBuffer bin;

    private ReferenceFile(Path base, Map<String, Object> meta, Map<String, Object> arrays, ByteBuffer bin) {
        this.base = base;
        this.meta = meta;
        this.arrays = arrays;
        this.bin = bin;
    }

    /** Opens {@code base.json} and {@code base.bin}; {@code base} may also name either file. */
    @SuppressWarnings("unchecked")
    public static ReferenceFile open(Path base) throws IOException {
        String name = base.getFileName().toString();
        if (name.endsWith(".json") || name.endsWith(".bin")) {
            base = base.resolveSibling(name.substring(0, name.lastIndexOf('.')));
        }
        Path json = base.resolveSibling(base.getFileName() + ".json");
        Path bin = base.resolveSibling(base.getFileName() + ".bin");
        for (Path p : List.of(json, bin)) {
            if (!Files.isRegularFile(p)) {
                throw new IOException("reference file not found: " + p);
            }
        }
        Map<String, Object> root = (Map<String, Object>) Json.parse(Files.readString(json));
        Map<String, Object> meta = (Map<String, Object>) root.getOrDefault("meta", Map.of());
        Map<String, Object> arrays = (Map<String, Object>) root.getOrDefault("arrays", Map.of());
        ByteBuffer data = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        return new ReferenceFile(base, meta, arrays, data);
    }

    public Path base() {
        return base;
    }

    /** Optimizer names the file's metadata lists (each with {@code step} and {@code group}). */
    public TreeSet<String> optimizers() {
        TreeSet<String> names = new TreeSet<>();
        meta.forEach((k, v) -> {
            if (v instanceof Map<?, ?> m && m.containsKey("group")) {
                names.add(k);
            }
        });
        return names;
    }

    /** One optimizer's metadata entry. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> optimizerMeta(String name) {
        return (Map<String, Object>) meta.get(name);
    }

    public boolean has(String array) {
        return arrays.containsKey(array);
    }

    /** Names of arrays starting with {@code prefix}. */
    public TreeSet<String> arraysStartingWith(String prefix) {
        TreeSet<String> names = new TreeSet<>();
        for (String k : arrays.keySet()) {
            if (k.startsWith(prefix)) {
                names.add(k);
            }
        }
        return names;
    }

    public float[] floats(String array) {
        Map<String, Object> entry = entry(array, "float32");
        int offset = ((Double) entry.get("offset")).intValue();
        int count = ((Double) entry.get("nbytes")).intValue() / 4;
        float[] out = new float[count];
        bin.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(offset).asFloatBuffer().get(out);
        return out;
    }

    public byte[] bytes(String array) {
        Map<String, Object> entry = entry(array, "uint8");
        int offset = ((Double) entry.get("offset")).intValue();
        byte[] out = new byte[((Double) entry.get("nbytes")).intValue()];
        bin.duplicate().position(offset).get(out);
        return out;
    }

    /** The array's shape. */
    @SuppressWarnings("unchecked")
    public int[] shape(String array) {
        List<Object> dims = (List<Object>) entry(array, null).get("shape");
        return dims.stream().mapToInt(d -> ((Double) d).intValue()).toArray();
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> entry(String array, String dtype) {
        Map<String, Object> entry = (Map<String, Object>) arrays.get(array);
        if (entry == null) {
            throw new IllegalArgumentException(base + ": no array '" + array + "'");
        }
        if (dtype != null && !dtype.equals(entry.get("dtype"))) {
            throw new IllegalArgumentException(base + ": array '" + array + "' is " + entry.get("dtype")
                    + ", expected " + dtype);
        }
        return entry;
    }
}
