package dev.octet.adapters.djl;

import ai.djl.nn.Parameter;
import java.lang.ref.WeakReference;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The arrays DJL's {@code Parameter.load} made from a stream, whoever read the stream: each parameter's
 * latest, and the {@code Model.load} from a file it was part of, if any. An array a stream made that no
 * {@code Model.load} claims came from a {@code Block.loadParameters} the job called itself (or a
 * {@code Model.load} from an {@code InputStream}): octet cannot learn which file that stream read (DJL hands
 * the block only a {@code DataInputStream}), so it cannot find the optimizer state saved beside it.
 */
final class DjlParameterLoads {

    /** One array {@code Parameter.load} made. */
    static final class Made {
        /** Weak: the model and DJL's trainer decide how long arrays live. */
        final WeakReference<Object> array;
        /** The {@code Model.load} from a file that made it; null while it reads, and for any other load. */
        volatile DjlLoads.Load modelLoad;

        Made(Object array) {
            this.array = new WeakReference<>(array);
        }
    }

    /** By parameter (DJL's {@code Parameter} has identity equality); weak: the model decides how long it lives. */
    private static final Map<Parameter, Made> LATEST = Collections.synchronizedMap(new WeakHashMap<>());
    /** How many loads there were: a trainer's next update looks again at what it trains when this changes. */
    private static final AtomicInteger COUNT = new AtomicInteger();

    private DjlParameterLoads() {
    }

    /** At the end of {@code Parameter.load}: the parameter's array is the one the stream made (none: a parameter saved empty). */
    static void loaded(Parameter parameter) {
        if (parameter.isInitialized()) {
            LATEST.put(parameter, new Made(parameter.getArray()));
            COUNT.incrementAndGet();
        }
    }

    static int count() {
        return COUNT.get();
    }

    /** The record of {@code array} if it is the one {@code Parameter.load} last made for {@code parameter}, or null. */
    static Made madeBy(Parameter parameter, Object array) {
        Made made = LATEST.get(parameter);
        return made != null && array != null && made.array.get() == array ? made : null;
    }
}
