package dev.octet.agent;

import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isMethod;
import static net.bytebuddy.matcher.ElementMatchers.isNative;
import static net.bytebuddy.matcher.ElementMatchers.not;

import dev.octet.adapters.core.OctetRuntime;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;

/**
 * Inlined first into every method and constructor of a framework class octet would have instrumented,
 * where it does not handle what it found (a version, a setup) and the policy says {@code onError: fail}:
 * the first use of the class stops the job with the reason ({@link OctetRuntime#stopBecauseUnsupported}).
 * The reason is a constant of the woven code; {@code OctetRuntime} is reached through the framework's
 * class loader, as octet's helpers reach it.
 */
final class UnsupportedStopAdvice {

    /** Binds the reason, a constant, to the advice's parameter. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.PARAMETER)
    @interface Reason {
    }

    private UnsupportedStopAdvice() {
    }

    @Advice.OnMethodEnter
    static void enter(@Reason String reason) {
        OctetRuntime.stopBecauseUnsupported(reason);
    }

    /** This advice with {@code reason}, on the methods and constructors of a type. */
    static AsmVisitorWrapper on(String reason) {
        return Advice.withCustomMapping().bind(Reason.class, reason).to(UnsupportedStopAdvice.class)
                .on(isConstructor().or(isMethod().and(not(isAbstract())).and(not(isNative()))));
    }
}
