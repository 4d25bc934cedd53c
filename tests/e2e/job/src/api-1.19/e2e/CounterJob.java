package e2e;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The e2e test job: a rate-limited sequence source, keyed by {@code seq % keys}, and a keyed counter
 * whose state (one Long per key) is what checkpoints and savepoints carry.
 *
 * <p>Everything the harness asserts on is printed to the TaskManager's stdout, one line each:
 * <ul>
 *   <li>{@code E2E init restored=<bool> cp=<id|->} when the counter's state is initialised;
 *   <li>{@code E2E snapshot cp=<id> counts=k:n,...} each time a checkpoint or savepoint is taken;
 *   <li>{@code E2E count key=<k> n=<n> seq=<s>} for every record.
 * </ul>
 * After a restore from checkpoint/savepoint {@code cp}, the first count of key k must be
 * {@code snapshot[cp][k] + 1}: the state was restored, not restarted.
 *
 * <p>Program arguments: {@code --rate <records/s> --keys <n> --tag <text>}. The JobManager's stdout
 * gets {@code E2E main=<how> args=[...]} and the job is named {@code e2e-counter main=<how> tag=<tag>},
 * where how is {@code manifest} (started through the jar's Main-Class) or {@code entryClass}
 * (started through {@link CounterJobExplicit}, i.e. {@code --job-classname}).
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
        DataGeneratorSource<Long> source = new DataGeneratorSource<>(
                new Identity(), Long.MAX_VALUE, RateLimiterStrategy.perSecond(rate), Types.LONG);
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "sequence")
                .uid("sequence")
                .keyBy(new Modulo(keys), Types.LONG)
                .process(new Counter())
                .uid("counter")
                .name("counter")
                .print()
                .uid("print");
        env.execute("e2e-counter main=" + how + " tag=" + tag);
    }

    static final class Identity implements GeneratorFunction<Long, Long> {
        @Override
        public Long map(Long value) {
            return value;
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

        @Override
        public void initializeState(FunctionInitializationContext context) {
            OptionalLong cp = context.getRestoredCheckpointId();
            System.out.println("E2E init restored=" + context.isRestored()
                    + " cp=" + (cp.isPresent() ? Long.toString(cp.getAsLong()) : "-"));
            System.out.flush();
        }

        @Override
        public void open(OpenContext openContext) {
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
        public void snapshotState(FunctionSnapshotContext context) {
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
