package io.cohx.engine.dist;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A child JVM for {@link CoordinationTest}: joins a run as process INDEX of COUNT at
 * 127.0.0.1:PORT and then, by MODE, exchanges values through the store and finishes
 * ("exchange"), or waits in a barrier that never completes ("wait"). A failure report prints
 * "FAILED: message" and exits 3, as the CLI does.
 */
public final class CoordinationChild {
    public static void main(String[] args) throws Exception {
        int index = Integer.parseInt(args[0]);
        int count = Integer.parseInt(args[1]);
        int port = Integer.parseInt(args[2]);
        String mode = args[3];
        var timeouts = new Coordination.Timeouts(Duration.ofSeconds(20), Duration.ofMillis(200), Duration.ofSeconds(2));
        try (Coordination c = Coordination.join(new ProcessGroup(index, count, "127.0.0.1", port), timeouts, msg -> {
            System.out.println("FAILED: " + msg);
            System.out.flush();
            Runtime.getRuntime().halt(3);
        })) {
            System.out.println("JOINED " + index);
            System.out.flush();
            switch (mode) {
                case "exchange" -> {
                    c.put("from/" + index, ("hello from " + index).getBytes(StandardCharsets.UTF_8));
                    c.barrier("exchange", Duration.ofSeconds(20));
                    var sb = new StringBuilder("VALUES");
                    for (int i = 0; i < count; i++) {
                        sb.append(' ').append(new String(c.get("from/" + i, Duration.ofSeconds(5)), StandardCharsets.UTF_8).replace(' ', '_'));
                    }
                    System.out.println(sb);
                    c.finish(Duration.ofSeconds(20));
                    System.out.println("DONE " + index);
                }
                case "wait" -> c.barrier("never", Duration.ofSeconds(60));
                default -> throw new IllegalArgumentException(mode);
            }
        } catch (CoordinationException e) {
            System.out.println("FAILED: " + e.getMessage());
            System.exit(4);
        }
    }
}
