package io.cohx.bench;

import io.cohx.cli.PlatformOptions;
import io.cohx.pjrt.PjrtClient;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * CPU clients for benchmarks, made the way cohx's commands make them ({@link PlatformOptions}:
 * the plugin from the cache, installed on first use), one per device count, kept until exit.
 */
final class CpuClients {
    private CpuClients() {}

    private static final Map<Integer, PjrtClient> CLIENTS = new ConcurrentHashMap<>();

    static PjrtClient of(int devices) {
        return CLIENTS.computeIfAbsent(devices, n -> new PlatformOptions().client(n));
    }
}
