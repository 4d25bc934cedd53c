package e2e;

/**
 * The same job, but reachable only through {@code --job-classname e2e.CounterJobExplicit}: the jar's
 * Main-Class is {@link CounterJob}, so a job named "main=entryClass" proves the class name was passed.
 */
public class CounterJobExplicit {
    public static void main(String[] args) throws Exception {
        CounterJob.run(args, "entryClass");
    }
}
