package io.cohx.engine.dist;

import java.util.Map;

/**
 * Which process this is in a multi-process run, and where process 0's coordinator listens. On
 * a TPU pod slice {@code tpu/cohx-tpu launch} sets the three variables on every worker; the
 * {@code --process-index}, {@code --process-count} and {@code --coordinator-address} flags
 * override them. A single process needs none of them.
 */
public record ProcessGroup(int index, int count, String host, int port) {
    public static final String INDEX_ENV = "COHX_PROCESS_INDEX";
    public static final String COUNT_ENV = "COHX_PROCESS_COUNT";
    public static final String ADDRESS_ENV = "COHX_COORDINATOR_ADDRESS";

    public static final ProcessGroup SINGLE = new ProcessGroup(0, 1, null, 0);

    public ProcessGroup {
        if (count < 1) {
            throw new CoordinationException("the process count must be at least 1, got " + count);
        }
        if (index < 0 || index >= count) {
            throw new CoordinationException("process index " + index + " is outside 0.." + (count - 1) + " for a run of " + count + " processes");
        }
    }

    public boolean multiProcess() {
        return count > 1;
    }

    public boolean isCoordinator() {
        return index == 0;
    }

    /** "process 1 of 4". */
    public String describe() {
        return "process " + index + " of " + count;
    }

    /**
     * The group from flags (null: not given) over the environment. One process needs nothing;
     * more need an index and the coordinator's {@code host:port}, named by flag and variable when
     * missing or malformed.
     */
    public static ProcessGroup resolve(Integer indexFlag, Integer countFlag, String addressFlag, Map<String, String> env) {
        int count = countFlag != null ? countFlag : integer(env, COUNT_ENV, "--process-count", 1);
        int index = indexFlag != null ? indexFlag : integer(env, INDEX_ENV, "--process-index", 0);
        String address = addressFlag != null ? addressFlag : env.get(ADDRESS_ENV);
        if (count < 1) {
            throw new CoordinationException("--process-count / " + COUNT_ENV + " must be at least 1, got " + count);
        }
        if (index < 0 || index >= count) {
            throw new CoordinationException("--process-index / " + INDEX_ENV + " is " + index + ", outside 0.." + (count - 1)
                    + " for --process-count / " + COUNT_ENV + " " + count);
        }
        if (count == 1) {
            return SINGLE;
        }
        if (address == null || address.isBlank()) {
            throw new CoordinationException("a run of " + count + " processes needs the coordinator's address: set --coordinator-address"
                    + " or " + ADDRESS_ENV + " to process 0's HOST:PORT (the same on every process)");
        }
        String a = address.strip();
        int colon = a.lastIndexOf(':');
        if (colon <= 0 || colon == a.length() - 1) {
            throw new CoordinationException("coordinator address '" + address + "' (--coordinator-address / " + ADDRESS_ENV
                    + ") is not HOST:PORT, e.g. 10.130.0.2:8476");
        }
        String host = a.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1); // [IPv6]:port
        }
        int port;
        try {
            port = Integer.parseInt(a.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new CoordinationException("coordinator address '" + address + "': the port must be a number in 1..65535");
        }
        return new ProcessGroup(index, count, host, port);
    }

    private static int integer(Map<String, String> env, String name, String flag, int absent) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return absent;
        }
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new CoordinationException(name + "='" + v + "' is not an integer (or set " + flag + ")");
        }
    }
}
