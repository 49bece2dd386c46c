package dev.octet.kernels;

/**
 * An independent, deliberately plain implementation of SPEC section 4 for tests: one element at a
 * time, exact nearest-code search by scanning the map, no tables, no blocks in local arrays.
 */
final class ScalarReplay {

    final String optimizer;
    final float lr;
    final float beta1;
    final float beta2;
    final float eps;
    final float wd;

    ScalarReplay(String optimizer, float lr, float beta1, float beta2, float eps, float wd) {
        this.optimizer = optimizer;
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.wd = wd;
    }

    boolean twoStates() {
        return optimizer.startsWith("adam") || optimizer.equals("lamb");
    }

    /** One step on float32 state (s2 unused for one-state optimizers). */
    void step(float[] p, float[] g, float[] s1, float[] s2, int t) {
        int n = p.length;
        float[] dir = new float[n];
        boolean[] skip = new boolean[n];
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(g[i])) {
                skip[i] = true;
                s1[i] = 0;
                s2[i] = 0;
                continue;
            }
            float gi = g[i];
            switch (optimizer) {
                case "adam", "adamw", "lamb" -> {
                    s1[i] = beta1 * s1[i] + (1 - beta1) * gi;
                    s2[i] = beta2 * s2[i] + (1 - beta2) * gi * gi;
                    float c2 = (float) Math.sqrt(1 - Math.pow(beta2, t));
                    dir[i] = s1[i] / ((float) Math.sqrt(s2[i]) + eps * c2);
                }
                case "momentum", "nesterov", "lars" -> {
                    float gw = gi + wd * p[i];
                    s1[i] = t == 1 ? gw : beta1 * s1[i] + gw;
                    dir[i] = optimizer.equals("nesterov") ? gw + beta1 * s1[i] : s1[i];
                }
                case "rmsprop" -> {
                    float gw = gi + wd * p[i];
                    s1[i] = beta1 * s1[i] + (1 - beta1) * (gw * gw);
                    dir[i] = gi / ((float) Math.sqrt(s1[i]) + eps);
                }
                case "adagrad" -> {
                    float gw = gi + wd * p[i];
                    s1[i] += gw * gw;
                    dir[i] = gi / ((float) Math.sqrt(s1[i]) + eps);
                }
                case "lion" -> {
                    dir[i] = Math.signum(beta1 * s1[i] + (1 - beta1) * gi);
                    s1[i] = beta2 * s1[i] + (1 - beta2) * gi;
                }
                default -> throw new IllegalArgumentException(optimizer);
            }
        }
        float scale = switch (optimizer) {
            case "adam", "adamw", "lamb" -> lr * (float) Math.sqrt(1 - Math.pow(beta2, t))
                    / (float) (1 - Math.pow(beta1, t));
            default -> lr;
        };
        double trustLimit = optimizer.equals("lamb") ? 1.0 : optimizer.equals("lars") ? 0.02 : 0;
        if (trustLimit > 0) {
            double pn = 0;
            double dn = 0;
            for (int i = 0; i < n; i++) {
                pn += (double) p[i] * p[i];
                dn += (double) dir[i] * dir[i];
            }
            double limit = trustLimit * Math.sqrt(pn);
            if (Math.sqrt(dn) > limit) {
                scale *= (float) (limit / Math.sqrt(dn));
            }
        }
        for (int i = 0; i < n; i++) {
            if (skip[i]) {
                continue;
            }
            if (optimizer.equals("lion")) {
                p[i] = p[i] * (1 - lr * wd) - scale * dir[i];
            } else if (optimizer.startsWith("adam") || optimizer.equals("lamb")) {
                p[i] = (p[i] - scale * dir[i]) * (1 - lr * wd);
            } else {
                p[i] = p[i] - scale * dir[i];
            }
        }
    }

    /** Decodes a whole 8-bit statistic. */
    static float[] decode(byte[] codes, float[] absmax, int blockSize, QuantizationMap map) {
        float[] out = new float[codes.length];
        for (int i = 0; i < codes.length; i++) {
            out[i] = map.value(codes[i] & 0xFF) * absmax[i / blockSize];
        }
        return out;
    }

    /** Encodes a statistic block-wise with exact nearest search and, if asked, the sign fix. */
    static void encode(float[] values, int blockSize, QuantizationMap map, boolean keepSign, byte[] codes,
            float[] absmax) {
        for (int b = 0; b * blockSize < values.length; b++) {
            int from = b * blockSize;
            int to = Math.min(values.length, from + blockSize);
            float max = 0;
            for (int i = from; i < to; i++) {
                max = Math.max(max, Math.abs(values[i]));
            }
            absmax[b] = max;
            for (int i = from; i < to; i++) {
                int best;
                if (max == 0) {
                    best = map.zeroCode();
                } else {
                    float x = values[i] * (1f / max);
                    best = 0;
                    for (int c = 1; c < 256; c++) {
                        if (Math.abs((double) x - map.value(c)) < Math.abs((double) x - map.value(best))) {
                            best = c;
                        }
                    }
                    if (keepSign && (map.value(best) < 0 || Float.floatToRawIntBits(map.value(best)) < 0)
                            != (Float.floatToRawIntBits(x) < 0)) {
                        best += x > 0 ? 1 : -1;
                    }
                }
                codes[i] = (byte) best;
            }
        }
    }
}
