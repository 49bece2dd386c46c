package dev.octet.policy;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** The known name a misspelt one most likely meant, for "did you mean" in messages (policy keys, agent settings). */
public final class NearestName {

    private NearestName() {
    }

    /** The name of {@code known} nearest to {@code name}, case aside, if one is close enough to suggest. */
    public static Optional<String> among(String name, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = editDistance(name.toLowerCase(Locale.ROOT), candidate.toLowerCase(Locale.ROOT));
            if (distance < bestDistance) {
                best = candidate;
                bestDistance = distance;
            }
        }
        // Further than this, a suggestion is more likely to confuse than to help.
        int closeEnough = Math.max(2, name.length() / 3);
        return bestDistance <= closeEnough ? Optional.ofNullable(best) : Optional.empty();
    }

    /** Levenshtein distance: insertions, deletions and substitutions of one character. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
