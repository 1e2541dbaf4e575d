package io.cohx.coh.data;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One way of turning a preference pair into a training sequence (docs/COH.md#feedback-types): the preferred
 * answer alone ({@code p}), the dispreferred alone ({@code n}), or both chained ({@code pn},
 * {@code np}). {@code aux} is not a type but a switch (see {@link Selection}).
 */
public enum FeedbackType {
    P("p"), N("n"), PN("pn"), NP("np");

    private final String flag;

    FeedbackType(String flag) {
        this.flag = flag;
    }

    public String flag() {
        return flag;
    }

    /**
     * What {@code --include-feedback} asked for: the types, whether {@code aux} phrases replace
     * the single marker pair, and the option string verbatim (it is part of the output file names,
     * as in the reference).
     */
    public record Selection(Set<FeedbackType> types, boolean aux, String text) {

        public Selection {
            types = types.isEmpty() ? Set.of() : EnumSet.copyOf(types);
        }

        /** Parses e.g. {@code "p,n,pn,np,aux"}; unknown names and {@code aux} alone are errors. */
        public static Selection parse(String text) {
            var types = EnumSet.noneOf(FeedbackType.class);
            boolean aux = false;
            var unknown = new ArrayList<String>();
            for (String raw : text.split(",", -1)) {
                String name = raw.strip();
                if (name.equals("aux")) {
                    aux = true;
                    continue;
                }
                FeedbackType found = null;
                for (FeedbackType t : values()) {
                    if (t.flag.equals(name)) {
                        found = t;
                    }
                }
                if (found == null) {
                    unknown.add("'" + name + "'");
                } else {
                    types.add(found);
                }
            }
            if (!unknown.isEmpty()) {
                throw new DataException("--include-feedback: unknown feedback type " + String.join(", ", unknown)
                        + " in '" + text + "'; use a comma list of p, n, pn, np and optionally aux");
            }
            if (types.isEmpty()) {
                throw new DataException("--include-feedback '" + text + "' selects no sequence type: aux only"
                        + " changes the phrases of p, n, pn, np, so add at least one of them (e.g. p,n,pn,np,aux)");
            }
            return new Selection(types, aux, text.replace(" ", ""));
        }

        boolean has(FeedbackType t) {
            return types.contains(t);
        }

        List<FeedbackType> inOrder(List<FeedbackType> order) {
            return order.stream().filter(types::contains).toList();
        }
    }
}
