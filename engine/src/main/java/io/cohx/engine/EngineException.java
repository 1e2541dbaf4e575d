package io.cohx.engine;

/**
 * Every error the engine reports: a bad shape or dtype while tracing (the message names the op,
 * the operand types and the Java line that called it), a wrong argument at call time, or a
 * failure to compile or run a program.
 */
public class EngineException extends RuntimeException {
    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }

    /** An error in op {@code op} while tracing, with the caller's source line appended. */
    static EngineException op(String op, String what) {
        return new EngineException(op + ": " + what + " (at " + CallSite.find() + ")");
    }
}
