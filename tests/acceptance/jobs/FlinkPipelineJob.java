// A Flink job for tests/acceptance/processing_backend_test.rs (the Flink backend's own tests),
// compiled there against the stack's Flink lib/ (never committed as a jar).
//
// Arguments: OUT MODE. It never names itself (execute() without a name), so its job name is the
// `pipeline.name` the submission sets. First it writes "probe=<datamesh.probe>" to the file OUT
// (the value of that key in the job's configuration: proof that the run request's
// flinkConfiguration reaches the program), then, by MODE:
//   run   numbers 1, 2, ... one per 20 ms, appended to OUT as "n=<number>" lines, unbounded;
//   throw main throws before building anything (the run request itself fails);
//   fail  the first record throws in the task (the job fails at run time; with
//         restart-strategy.type none in the submission it ends FAILED).

package datamesh.smoke;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

public class FlinkPipelineJob {
    static final ConfigOption<String> PROBE =
            ConfigOptions.key("datamesh.probe").stringType().defaultValue("<unset>");

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: FlinkPipelineJob OUT MODE");
        }
        final String out = args[0];
        final String mode = args[1];
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        String probe = env.getConfiguration().get(PROBE);
        Files.write(Paths.get(out), ("probe=" + probe + "\n").getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (mode.equals("throw")) {
            throw new IllegalStateException("datamesh test job refuses to start: mode throw");
        }
        env.setParallelism(1);
        env.fromSequence(1, Long.MAX_VALUE)
                .map(new Step(mode.equals("fail")))
                .sinkTo(new LineFileSink(out));
        env.execute();
    }

    /** n -> "n=<n>" after 20 ms; throws on the first record when failing. */
    static final class Step implements MapFunction<Long, String> {
        private final boolean fail;

        Step(boolean fail) {
            this.fail = fail;
        }

        @Override
        public String map(Long n) throws Exception {
            if (fail) {
                throw new IllegalStateException("datamesh test job fails at record " + n);
            }
            Thread.sleep(20);
            return "n=" + n;
        }
    }

    /** Appends each record as a line to one local file, flushed per record. */
    static final class LineFileSink implements Sink<String> {
        private final String path;

        LineFileSink(String path) {
            this.path = path;
        }

        @Override
        public SinkWriter<String> createWriter(WriterInitContext context) throws IOException {
            final BufferedWriter w = Files.newBufferedWriter(Paths.get(path), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            return new SinkWriter<String>() {
                @Override
                public void write(String line, Context ctx) throws IOException {
                    w.write(line);
                    w.newLine();
                    w.flush();
                }

                @Override
                public void flush(boolean endOfInput) throws IOException {
                    w.flush();
                }

                @Override
                public void close() throws IOException {
                    w.close();
                }
            };
        }
    }
}
