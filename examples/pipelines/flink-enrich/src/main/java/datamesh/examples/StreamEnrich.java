package datamesh.examples;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The Flink example pipeline: reads {@code <key>,<payload>} records from one Kafka topic, drops
 * those without a key, and writes {@code <key>,<count>,<payload>[,<tag>]} keyed by {@code <key>}
 * to another, where count is the running count of the key kept in Flink state.
 *
 * <p>Program arguments: {@code --input <topic> --output <topic> --group <consumer group id>
 * [--tag <text>]}. Kafka client settings come from the job's Flink configuration
 * ({@link KafkaClientConfig}). The job is named by the configuration's {@code pipeline.name}.
 */
public final class StreamEnrich {
    /** Operator ids a savepoint is mapped by: they must never change. */
    static final String SOURCE_UID = "datamesh-enrich-source";
    static final String COUNT_UID = "datamesh-enrich-count";
    static final String SINK_UID = "datamesh-enrich-sink";

    private static final long CHECKPOINT_INTERVAL_MS = 2_000;

    private StreamEnrich() {}

    public static void main(String[] args) throws Exception {
        Args a = Args.parse(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Properties kafka = KafkaClientConfig.from(env.getConfiguration().toMap());
        env.enableCheckpointing(CHECKPOINT_INTERVAL_MS);

        KafkaSource<String> source = KafkaSource.<String>builder()
                .setProperties(kafka)
                .setTopics(a.input)
                .setGroupId(a.group)
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new Utf8Values())
                .build();
        KafkaSink<Tuple2<String, String>> sink = KafkaSink.<Tuple2<String, String>>builder()
                .setKafkaProducerConfig(kafka)
                .setRecordSerializer(new KeyedRecords(a.output))
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .build();

        env.fromSource(source, WatermarkStrategy.noWatermarks(), "kafka " + a.input)
                .uid(SOURCE_UID)
                .flatMap(new SplitKey())
                .name("split key, drop keyless")
                .keyBy(record -> record.f0, Types.STRING)
                .map(new CountPerKey(a.tag))
                .uid(COUNT_UID)
                .name("count per key")
                .sinkTo(sink)
                .uid(SINK_UID)
                .name("kafka " + a.output);
        // No name here: the configuration's pipeline.name (set by whoever submits it) names the job.
        env.execute();
    }

    /** The program arguments. */
    static final class Args {
        final String input;
        final String output;
        final String group;
        /** Appended to every output value when set; null when not given. */
        final String tag;

        private Args(String input, String output, String group, String tag) {
            this.input = input;
            this.output = output;
            this.group = group;
            this.tag = tag;
        }

        private static final String USAGE = "usage: --input <topic> --output <topic> --group <consumer group id> [--tag <text>]";

        static Args parse(String[] args) {
            Map<String, String> seen = new HashMap<>();
            for (int i = 0; i < args.length; i += 2) {
                String flag = args[i];
                if (!flag.equals("--input") && !flag.equals("--output") && !flag.equals("--group") && !flag.equals("--tag")) {
                    throw new IllegalArgumentException("unknown argument '" + flag + "'; " + USAGE);
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(flag + " needs a value; " + USAGE);
                }
                if (seen.put(flag, args[i + 1]) != null) {
                    throw new IllegalArgumentException(flag + " is given twice; " + USAGE);
                }
            }
            for (String required : new String[] {"--input", "--output", "--group"}) {
                String v = seen.get(required);
                if (v == null || v.isEmpty()) {
                    throw new IllegalArgumentException("missing " + required + "; " + USAGE);
                }
            }
            return new Args(seen.get("--input"), seen.get("--output"), seen.get("--group"), seen.get("--tag"));
        }
    }

    /** Record values as UTF-8 text; a record without a value (a tombstone) is dropped. */
    static final class Utf8Values implements KafkaRecordDeserializationSchema<String> {
        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<String> out) {
            if (record.value() != null) {
                out.collect(new String(record.value(), StandardCharsets.UTF_8));
            }
        }

        @Override
        public TypeInformation<String> getProducedType() {
            return Types.STRING;
        }
    }

    /** {@code <key>,<payload>} into (key, payload): the key is the text before the first comma; a
     * value with no comma or an empty key is dropped. */
    static final class SplitKey implements FlatMapFunction<String, Tuple2<String, String>> {
        @Override
        public void flatMap(String value, Collector<Tuple2<String, String>> out) {
            int comma = value.indexOf(',');
            if (comma > 0) {
                out.collect(Tuple2.of(value.substring(0, comma), value.substring(comma + 1)));
            }
        }
    }

    /** (key, payload) into (key, {@code <key>,<count>,<payload>[,<tag>]}), counting each key in
     * keyed state, so the counts survive a savepoint and a restart. */
    static final class CountPerKey extends RichMapFunction<Tuple2<String, String>, Tuple2<String, String>> {
        private final String tag;
        private transient ValueState<Long> count;

        CountPerKey(String tag) {
            this.tag = tag;
        }

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public Tuple2<String, String> map(Tuple2<String, String> record) throws Exception {
            Long before = count.value();
            long n = (before == null ? 0 : before) + 1;
            count.update(n);
            String value = record.f0 + "," + n + "," + record.f1 + (tag == null ? "" : "," + tag);
            return Tuple2.of(record.f0, value);
        }
    }

    /** (key, value) as a Kafka record of the output topic with that key and value, UTF-8. */
    static final class KeyedRecords implements KafkaRecordSerializationSchema<Tuple2<String, String>> {
        private final String topic;

        KeyedRecords(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                Tuple2<String, String> record, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(
                    topic, null, timestamp,
                    record.f0.getBytes(StandardCharsets.UTF_8), record.f1.getBytes(StandardCharsets.UTF_8));
        }
    }
}
