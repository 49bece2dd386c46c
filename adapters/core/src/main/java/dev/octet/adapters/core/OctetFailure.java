package dev.octet.adapters.core;

/**
 * octet cannot go on in this job and the job must stop: thrown from a hook (or from the first use of a
 * framework class octet stands aside from) into the framework's own call, so the job fails there with
 * the reason, as any error of its own would. Only {@link HookFailures} and {@link OctetRuntime} make one.
 */
public final class OctetFailure extends RuntimeException {

    private static final long serialVersionUID = 1L;

    OctetFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
