package io.cohx.pjrt;

/** PJRT error codes (the absl status codes the C API reports). */
public enum ErrorCode {
    OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS,
    PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE,
    UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED;

    static ErrorCode of(int code) {
        return code >= 0 && code < values().length ? values()[code] : UNKNOWN;
    }
}
