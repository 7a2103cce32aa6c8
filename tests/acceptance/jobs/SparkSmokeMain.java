// A plain Java main that tests/acceptance/engines_smoke_test.rs submits to the stack's Spark
// master in cluster mode (the worker runs it as the driver); compiled there, never committed as
// a jar.
//
// Arguments: OUT EXIT_CODE. Writes "ran <spark.app.name> exit <EXIT_CODE>" to the file OUT
// (proof that it ran, as the driver of that submission: the worker passes the submission's
// Spark properties as system properties), then exits with EXIT_CODE (non-zero: the driver ends
// FAILED).

package datamesh.smoke;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

public class SparkSmokeMain {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: SparkSmokeMain OUT EXIT_CODE");
        }
        int code = Integer.parseInt(args[1]);
        String line = "ran " + System.getProperty("spark.app.name", "?") + " exit " + code + "\n";
        Files.write(Paths.get(args[0]), line.getBytes(StandardCharsets.UTF_8));
        if (code != 0) {
            System.exit(code);
        }
    }
}
