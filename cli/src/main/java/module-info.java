/**
 * The cohx command line. It compiles against picocli's released jar (module info.picocli); the
 * shipped jar carries picocli compiled from its source jar instead (cli/pom.xml, docs/STARTUP.md).
 * {@code io.cohx.cli} is exported to the benchmarks only, which run commands the way users do.
 */
module io.cohx.cli {
    requires io.cohx.coh;
    requires io.cohx.serve;
    requires io.cohx.eval;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;

    exports io.cohx.cli to io.cohx.bench;

    // picocli sets the commands' @Option, @Parameters, @Mixin and @Spec fields reflectively.
    opens io.cohx.cli to info.picocli;
}
