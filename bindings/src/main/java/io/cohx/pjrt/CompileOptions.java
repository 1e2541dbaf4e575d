package io.cohx.pjrt;

import io.cohx.pjrt.proto.CompileOptionsProtos.CompileOptionsProto;
import io.cohx.pjrt.proto.CompileOptionsProtos.DeviceAssignmentProto;
import io.cohx.pjrt.proto.CompileOptionsProtos.ExecutableBuildOptionsProto;
import io.cohx.pjrt.proto.CompileOptionsProtos.OptionOverrideProto;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What cohx tells XLA when compiling: replicas, partitions, SPMD/Shardy partitioning, an explicit
 * device assignment, and DebugOptions overrides by field name (applied on top of XLA's defaults;
 * a partial {@code debug_options} message would reset every default). Immutable.
 *
 * @param deviceAssignment {@code [replica][partition]} global device ids, or null for XLA's default
 */
public record CompileOptions(int numReplicas, int numPartitions, boolean spmd, boolean shardy,
                             int[][] deviceAssignment, Map<String, Object> debugOverrides) {

    /** One replica, one partition, default device. */
    public static final CompileOptions DEFAULT = builder().build();

    public static Builder builder() {
        return new Builder();
    }

    /** The serialized {@code xla.CompileOptionsProto}. */
    public byte[] toBytes() {
        var build = ExecutableBuildOptionsProto.newBuilder()
                .setDeviceOrdinal(-1)
                .setNumReplicas(numReplicas)
                .setNumPartitions(numPartitions)
                .setUseSpmdPartitioning(spmd)
                .setUseShardyPartitioner(shardy);
        if (deviceAssignment != null) {
            var da = DeviceAssignmentProto.newBuilder().setReplicaCount(numReplicas).setComputationCount(numPartitions);
            for (int p = 0; p < numPartitions; p++) {
                var cd = DeviceAssignmentProto.ComputationDevice.newBuilder();
                for (int r = 0; r < numReplicas; r++) {
                    cd.addReplicaDeviceIds(deviceAssignment[r][p]);
                }
                da.addComputationDevices(cd);
            }
            build.setDeviceAssignment(da);
        }
        var proto = CompileOptionsProto.newBuilder().setExecutableBuildOptions(build);
        debugOverrides.forEach((k, v) -> proto.putEnvOptionOverrides(k, switch (v) {
            case String s -> OptionOverrideProto.newBuilder().setStringField(s).build();
            case Boolean b -> OptionOverrideProto.newBuilder().setBoolField(b).build();
            case Integer i -> OptionOverrideProto.newBuilder().setIntField(i).build();
            case Long l -> OptionOverrideProto.newBuilder().setIntField(l).build();
            case Double d -> OptionOverrideProto.newBuilder().setDoubleField(d).build();
            default -> throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "debug option " + k + ": unsupported value " + v);
        }));
        return proto.build().toByteArray();
    }

    /** Builder with XLA's defaults (1 replica, 1 partition, no SPMD). */
    public static final class Builder {
        private int numReplicas = 1;
        private int numPartitions = 1;
        private boolean spmd;
        private boolean shardy;
        private int[][] deviceAssignment;
        private final Map<String, Object> debugOverrides = new LinkedHashMap<>();

        public Builder numReplicas(int n) {
            this.numReplicas = n;
            return this;
        }

        public Builder numPartitions(int n) {
            this.numPartitions = n;
            return this;
        }

        /** SPMD partitioning (required when numPartitions > 1). */
        public Builder spmd(boolean on) {
            this.spmd = on;
            return this;
        }

        /** Shardy instead of GSPMD as the partitioner (for {@code sdy.*} annotations). */
        public Builder shardy(boolean on) {
            this.shardy = on;
            return this;
        }

        /** {@code [replica][partition]} global device ids. */
        public Builder deviceAssignment(int[][] ids) {
            this.deviceAssignment = ids;
            return this;
        }

        /** One partition per device, one replica: {@code ids[p]} runs partition p. */
        public Builder devices(int... ids) {
            this.deviceAssignment = new int[][] {ids.clone()};
            return this;
        }

        /** A DebugOptions override by field name, e.g. {@code xla_cpu_enable_fast_math=false}. */
        public Builder debugOption(String name, Object value) {
            debugOverrides.put(name, value);
            return this;
        }

        public CompileOptions build() {
            if (numReplicas < 1 || numPartitions < 1) {
                throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "numReplicas and numPartitions must be >= 1, got "
                        + numReplicas + " and " + numPartitions);
            }
            if (numPartitions > 1 && !spmd) {
                throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "numPartitions=" + numPartitions + " needs spmd(true)");
            }
            if (deviceAssignment != null && (deviceAssignment.length != numReplicas
                    || java.util.Arrays.stream(deviceAssignment).anyMatch(r -> r.length != numPartitions))) {
                throw new PjrtException(ErrorCode.INVALID_ARGUMENT, "device assignment must be [" + numReplicas + "][" + numPartitions + "]");
            }
            return new CompileOptions(numReplicas, numPartitions, spmd, shardy, deviceAssignment, Map.copyOf(debugOverrides));
        }
    }
}
