package dev.octet.kernels;

/**
 * An independent, deliberately plain implementation of docs/technique.md section 4 for tests: one element at a
 * time, exact nearest-code search by scanning the map, no tables, no blocks in local arrays. With
 * {@code quantized}, octet's guards for 8-bit state as its documentation states them (StatisticFloor,
 * UpdateRule.divides): Adam's decoded second moment raised to {@code m^2 / C_{t-1}}, a new statistic
 * that is not finite skipping its element, and (in {@link #encode}) positive divisors kept off zero.
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

    /** Whether the optimizer divides by its statistic {@code k} (octet never rounds those to zero). */
    boolean divides(int k) {
        return twoStates() ? k == 1 : optimizer.equals("rmsprop") || optimizer.equals("adagrad");
    }

    /** One step on float32 state (s2 unused for one-state optimizers). */
    void step(float[] p, float[] g, float[] s1, float[] s2, int t) {
        step(p, g, s1, s2, t, false);
    }

    /** One step; {@code quantized}: s1 and s2 were decoded from 8 bits, and octet's guards apply. */
    void step(float[] p, float[] g, float[] s1, float[] s2, int t, boolean quantized) {
        int n = p.length;
        float[] dir = new float[n];
        boolean[] skip = new boolean[n];
        float floor = 0f;
        if (quantized && twoStates()) {
            // v >= m^2 / C with C = (1 - b1)^2 / (1 - b2) * (1 + r + ... + r^(t-2)), r = b1^2 / b2; for
            // t = 1 the limit (state of unknown age), here a zero state anyway.
            double r = (double) beta1 * beta1 / beta2;
            double sum = 0;
            for (int j = 0; j < (t > 1 ? t - 1 : 100_000); j++) {
                sum += Math.pow(r, j);
            }
            floor = (float) (1 / Math.sqrt((1.0 - beta1) * (1.0 - beta1) / (1.0 - beta2) * sum));
        }
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(g[i])) {
                skip[i] = true;
                s1[i] = 0;
                s2[i] = 0;
                continue;
            }
            if (floor > 0f) {
                float bound = (s1[i] * floor) * (s1[i] * floor);
                s2[i] = Math.max(s2[i], bound);
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
            if (quantized && !(Float.isFinite(s1[i]) && Float.isFinite(s2[i]))) {
                skip[i] = true;
                s1[i] = 0;
                s2[i] = 0;
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

    /**
     * Encodes a statistic block-wise with exact nearest search and, if asked, the sign fix and keeping
     * positive values off the zero code.
     */
    static void encode(float[] values, int blockSize, QuantizationMap map, boolean keepSign, boolean keepPositive,
            byte[] codes, float[] absmax) {
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
                    if (keepPositive && best == map.zeroCode() && x > 0) {
                        best++;
                    }
                }
                codes[i] = (byte) best;
            }
        }
    }
}
