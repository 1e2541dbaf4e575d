package io.cohx.pjrt;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * The key-value store a multi-process PJRT client uses to meet its peers (device topology, NCCL
 * ids): every process of a run sees the same store. The plugin calls it from its own threads, so
 * implementations are thread-safe. A {@link RuntimeException} from any method reaches the plugin
 * as an UNAVAILABLE error carrying the exception's message.
 */
public interface KeyValueStore {
    /** The value of {@code key}, waiting until some process puts it or {@code timeout} passes. */
    byte[] get(String key, Duration timeout) throws TimeoutException;

    /** The value of {@code key} if some process has put it, without waiting. */
    Optional<byte[]> tryGet(String key);

    /** Sets {@code key} for every process (a later put replaces the value). */
    void put(String key, byte[] value);
}
