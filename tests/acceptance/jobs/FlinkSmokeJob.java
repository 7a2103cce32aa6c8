// A Flink job for tests/acceptance/engines_smoke_test.rs, compiled there against the stack's
// Flink lib/ (never committed as a jar).
//
// Arguments: OUT COUNT DELAY_MS. Numbers 1..COUNT (COUNT 0: practically unbounded) go through a
// map that waits DELAY_MS per number and into a sink that appends "n=<number>" lines to the file
// OUT on the TaskManager (the test reads it back: proof that the job ran and how far it got).
// Stateless but for the sequence source's position, which a savepoint keeps.

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
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

public class FlinkSmokeJob {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: FlinkSmokeJob OUT COUNT DELAY_MS");
        }
        final String out = args[0];
        final long count = Long.parseLong(args[1]);
        final long delayMs = Long.parseLong(args[2]);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.fromSequence(1, count == 0 ? Long.MAX_VALUE : count)
                .map(new Delay(delayMs))
                .sinkTo(new LineFileSink(out));
        env.execute("datamesh-smoke " + Paths.get(out).getFileName());
    }

    /** n -> "n=<n>", after waiting delayMs. */
    static final class Delay implements MapFunction<Long, String> {
        private final long delayMs;

        Delay(long delayMs) {
            this.delayMs = delayMs;
        }

        @Override
        public String map(Long n) throws Exception {
            if (delayMs > 0) {
                Thread.sleep(delayMs);
            }
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
