package e2e;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.source.RichParallelSourceFunction;
import org.apache.flink.util.Collector;

/**
 * The e2e test job for Flink before 1.19 (1.12 ... 1.18): the same protocol as the 1.19+ variant
 * ({@code api-1.19/e2e/CounterJob.java}; see there for the stdout lines the harness reads), written
 * against the APIs those versions have:
 * <ul>
 *   <li>{@code open(Configuration)} instead of {@code open(OpenContext)} (1.19+);
 *   <li>a rate-limited {@link RichParallelSourceFunction} with its position in operator state instead
 *       of {@code DataGeneratorSource} (1.17+, not in every flink-dist);
 *   <li>the restored checkpoint's id kept in the counter's own operator state, because
 *       {@code FunctionInitializationContext#getRestoredCheckpointId} is newer than 1.12.
 * </ul>
 * Parallelism 1 (the specs set it), so one list entry per state is the whole state.
 */
public class CounterJob {

    public static void main(String[] args) throws Exception {
        run(args, "manifest");
    }

    static void run(String[] args, String how) throws Exception {
        double rate = 20;
        long keys = 3;
        String tag = "-";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--rate": rate = Double.parseDouble(args[i + 1]); break;
                case "--keys": keys = Long.parseLong(args[i + 1]); break;
                case "--tag": tag = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (args.length % 2 != 0) {
            throw new IllegalArgumentException("odd number of arguments: " + Arrays.toString(args));
        }
        System.out.println("E2E main=" + how + " args=" + Arrays.toString(args));
        System.out.flush();

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.addSource(new Sequence(rate), "sequence", Types.LONG)
                .uid("sequence")
                .keyBy(new Modulo(keys), Types.LONG)
                .process(new Counter())
                .uid("counter")
                .name("counter")
                .print()
                .uid("print");
        env.execute("e2e-counter main=" + how + " tag=" + tag);
    }

    /**
     * 0, 1, 2, ... at `rate` records per second; the next number is checkpointed.
     *
     * <p>After each snapshot it pauses until that checkpoint completed (plus {@link #GRACE_NANOS}, at
     * most {@link #MAX_PAUSE_NANOS}), so that, as with {@code DataGeneratorSource}, no record follows
     * the savepoint of a stop-with-savepoint: a legacy source runs in a thread of its own and would
     * otherwise emit records until the task is cancelled after the savepoint, and the last counts
     * would not be the savepoint's.
     */
    static final class Sequence extends RichParallelSourceFunction<Long>
            implements CheckpointedFunction, CheckpointListener {
        private static final long GRACE_NANOS = 300_000_000L;
        private static final long MAX_PAUSE_NANOS = 3_000_000_000L;
        private final double rate;
        private volatile boolean running = true;
        private long next;
        private transient ListState<Long> position;
        private volatile boolean paused;
        private volatile long pausedAt;
        private volatile long resumeAt;

        Sequence(double rate) {
            this.rate = rate;
        }

        @Override
        public void run(SourceContext<Long> ctx) throws Exception {
            long pauseNanos = (long) (1_000_000_000L / rate);
            long due = System.nanoTime();
            while (running) {
                if (paused) {
                    long now = System.nanoTime();
                    if (now - pausedAt < MAX_PAUSE_NANOS && (resumeAt == 0 || now - resumeAt < 0)) {
                        Thread.sleep(10);
                        due = System.nanoTime();
                        continue;
                    }
                    paused = false;
                }
                synchronized (ctx.getCheckpointLock()) {
                    ctx.collect(next);
                    next++;
                }
                due += pauseNanos;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                }
            }
        }

        @Override
        public void cancel() {
            running = false;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            position.clear();
            position.add(next);
            resumeAt = 0;
            pausedAt = System.nanoTime();
            paused = true;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            resumeAt = System.nanoTime() + GRACE_NANOS;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            position = context.getOperatorStateStore().getListState(
                    new ListStateDescriptor<>("position", Types.LONG));
            for (Long p : position.get()) {
                next = p;
            }
        }
    }

    static final class Modulo implements KeySelector<Long, Long> {
        private final long keys;

        Modulo(long keys) {
            this.keys = keys;
        }

        @Override
        public Long getKey(Long value) {
            return value % keys;
        }
    }

    /** Keyed counter; keeps a plain mirror of the keyed state only to print it at snapshot time. */
    static final class Counter extends KeyedProcessFunction<Long, Long, String>
            implements CheckpointedFunction {
        private transient ValueState<Long> count;
        private transient Map<Long, Long> mirror;
        private transient ListState<Long> snapshotId;

        @Override
        public void initializeState(FunctionInitializationContext context) throws Exception {
            snapshotId = context.getOperatorStateStore().getListState(
                    new ListStateDescriptor<>("snapshot-id", Types.LONG));
            String cp = "-";
            for (Long id : snapshotId.get()) {
                cp = Long.toString(id);
            }
            System.out.println("E2E init restored=" + context.isRestored() + " cp=" + cp);
            System.out.flush();
        }

        @Override
        public void open(Configuration parameters) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
            mirror = new TreeMap<>();
        }

        @Override
        public void processElement(Long seq, Context ctx, Collector<String> out) throws Exception {
            Long previous = count.value();
            long n = (previous == null ? 0L : previous) + 1;
            count.update(n);
            mirror.put(ctx.getCurrentKey(), n);
            out.collect("E2E count key=" + ctx.getCurrentKey() + " n=" + n + " seq=" + seq);
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) throws Exception {
            snapshotId.clear();
            snapshotId.add(context.getCheckpointId());
            List<String> parts = new ArrayList<>();
            for (Map.Entry<Long, Long> e : mirror.entrySet()) {
                parts.add(e.getKey() + ":" + e.getValue());
            }
            System.out.println("E2E snapshot cp=" + context.getCheckpointId()
                    + " counts=" + String.join(",", parts));
            System.out.flush();
        }
    }
}
